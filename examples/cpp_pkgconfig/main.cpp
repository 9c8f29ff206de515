// A C++ program that uses an installed libsbp through pkg-config.
//
// It shows the C API from C++11: the handles owned by std::unique_ptr with
// the library's free functions as deleters, every status turned into an
// exception that carries the library's message, and a network trained on
// data made in memory (no files needed). The network is a small ann-engine
// MLP whose hidden layer learns by the SBP spread of the output change
// (ann.hidden_mode = sbp) instead of backpropagation; the program checks
// that it classifies four noisy prototypes far better than chance.
//
// Build and run against an installed libsbp (see the Makefile next to it):
//
//   make                       # c++ -std=c++11 ... $(pkg-config --cflags --libs sbp)
//   ./sbp_cpp_example
//
// or by hand:
//
//   c++ -std=c++11 -O2 main.cpp $(pkg-config --cflags --libs sbp) -o sbp_cpp_example
//
// If libsbp is installed under a prefix the system does not search, set
// PKG_CONFIG_PATH=<prefix>/lib/<arch>/pkgconfig for the build and
// LD_LIBRARY_PATH=<prefix>/lib/<arch> to run. In a meson build directory the
// same program is built as examples/cpp_pkgconfig_example. Exit status 0 on
// success, 1 on any library error or if the network does not learn.
#include <sbp/sbp.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// A failed libsbp call: its status and the library's one-line message.
class sbp_error : public std::runtime_error {
public:
    sbp_error(sbp_status status, const std::string &what, const char *message)
        : std::runtime_error(what + ": " + sbp_status_str(status) + " (" +
                             (sbp_status_name(status) ? sbp_status_name(status) : "?") +
                             ")" + (message && *message ? std::string(": ") + message : "")),
          status_(status)
    {
    }
    sbp_status status() const { return status_; }

private:
    sbp_status status_;
};

void check(sbp_status st, const char *what, const char *message = nullptr)
{
    if (st != SBP_OK) throw sbp_error(st, what, message);
}

// Owning handles: the deleters are the library's free functions.
struct net_deleter {
    void operator()(sbp_net *p) const { sbp_net_free(p); }
};
struct dataset_deleter {
    void operator()(sbp_dataset *p) const { sbp_dataset_free(p); }
};
struct layer_deleter {
    void operator()(sbp_layer *p) const { sbp_layer_free(p); }
};
struct rule_deleter {
    void operator()(sbp_rule *p) const { sbp_rule_free(p); }
};
using net_ptr = std::unique_ptr<sbp_net, net_deleter>;
using dataset_ptr = std::unique_ptr<sbp_dataset, dataset_deleter>;
using layer_ptr = std::unique_ptr<sbp_layer, layer_deleter>;
using rule_ptr = std::unique_ptr<sbp_rule, rule_deleter>;

// A small reproducible generator (xorshift64*), so that the data are the
// same on every platform.
class rng {
public:
    explicit rng(std::uint64_t seed) : s_(seed ? seed : 1) {}
    double uniform() // [0, 1)
    {
        s_ ^= s_ >> 12;
        s_ ^= s_ << 25;
        s_ ^= s_ >> 27;
        return static_cast<double>((s_ * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
    }

private:
    std::uint64_t s_;
};

const std::size_t kFeatures = 16, kClasses = 4;

// n samples: each a random class's prototype plus uniform noise, in [0, 1].
dataset_ptr make_data(const std::vector<float> &prototypes, std::size_t n, rng &r)
{
    std::vector<float> x(n * kFeatures);
    std::vector<std::int32_t> labels(n);
    for (std::size_t i = 0; i < n; i++) {
        std::size_t c = static_cast<std::size_t>(r.uniform() * kClasses);
        labels[i] = static_cast<std::int32_t>(c);
        for (std::size_t j = 0; j < kFeatures; j++) {
            double v = prototypes[c * kFeatures + j] + 1.2 * (r.uniform() - 0.5);
            x[i * kFeatures + j] = static_cast<float>(v < 0 ? 0 : v > 1 ? 1 : v);
        }
    }
    sbp_dataset *ds = nullptr;
    check(sbp_dataset_create(n, kFeatures, x.data(), labels.data(), kClasses, &ds),
          "sbp_dataset_create");
    return dataset_ptr(ds);
}

void add_layer(sbp_net *net, std::size_t size)
{
    sbp_layer *raw = nullptr;
    check(sbp_layer_create(size, &raw), "sbp_layer_create");
    layer_ptr layer(raw);
    check(sbp_net_add_layer(net, layer.get()), "sbp_net_add_layer", sbp_net_errmsg(net));
}

int run()
{
    std::printf("libsbp %s (compiled against %s), BLAS: %s\n", sbp_version_string(),
                SBP_VERSION_STRING, sbp_blas_name());
    if (sbp_version_number() / 10000 != SBP_VERSION_MAJOR)
        throw std::runtime_error("the library's major version differs from the header's");

    rng r(12345);
    std::vector<float> prototypes(kClasses * kFeatures);
    for (float &p : prototypes) p = static_cast<float>(r.uniform());
    dataset_ptr train = make_data(prototypes, 400, r);
    dataset_ptr test = make_data(prototypes, 200, r);

    sbp_net *raw = nullptr;
    check(sbp_net_create(SBP_ENGINE_ANN, 3, &raw), "sbp_net_create");
    net_ptr net(raw);
    add_layer(net.get(), kFeatures);
    add_layer(net.get(), 32);
    add_layer(net.get(), kClasses);

    // Parameters can also be found by their dotted names.
    sbp_param hidden_mode;
    check(sbp_param_by_name("ann.hidden_mode", &hidden_mode), "sbp_param_by_name");
    check(sbp_net_set_int(net.get(), hidden_mode, SBP_HIDDEN_SBP), "ann.hidden_mode",
          sbp_net_errmsg(net.get()));
    check(sbp_net_set_int(net.get(), SBP_NET_BATCH_SIZE, 20), "net.batch_size",
          sbp_net_errmsg(net.get()));

    // The hidden layer learns from the SBP spread rule attached to it.
    sbp_rule *rraw = nullptr;
    check(sbp_rule_create(SBP_RULE_SBP_SPREAD, &rraw), "sbp_rule_create");
    rule_ptr spread(rraw);
    check(sbp_rule_set_real(spread.get(), SBP_SPREAD_LAMBDA_F, 0.5), "spread.lambda_f",
          sbp_rule_errmsg(spread.get()));
    check(sbp_net_attach_rule(net.get(), 1, spread.get()), "sbp_net_attach_rule",
          sbp_net_errmsg(net.get()));

    // An out-of-range value is refused, never clamped.
    sbp_status st = sbp_net_set_real(net.get(), SBP_ANN_MOMENTUM, 2.0);
    if (st != SBP_E_RANGE) throw std::runtime_error("ann.momentum = 2 was not refused");
    std::printf("refused as expected: %s\n", sbp_net_errmsg(net.get()));

    double test_error = 1;
    for (int epoch = 1; epoch <= 10; epoch++) {
        double train_error = 0;
        check(sbp_dataset_shuffle(train.get(), static_cast<std::uint64_t>(epoch)), "shuffle",
              sbp_dataset_errmsg(train.get()));
        check(sbp_net_train_epoch(net.get(), train.get(), &train_error), "train",
              sbp_net_errmsg(net.get()));
        check(sbp_net_evaluate(net.get(), test.get(), &test_error), "evaluate",
              sbp_net_errmsg(net.get()));
        if (epoch % 2 == 0)
            std::printf("epoch %2d: train error %5.1f %%, test error %5.1f %%\n", epoch,
                        100 * train_error, 100 * test_error);
    }
    if (test_error > 0.3) { // chance is 75 %
        std::fprintf(stderr, "sbp_cpp_example: test error %.1f %% is too high\n",
                     100 * test_error);
        return 1;
    }
    std::printf("ok\n");
    return 0;
}

} // namespace

int main()
{
    try {
        return run();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "sbp_cpp_example: %s\n", e.what());
        return 1;
    }
}
