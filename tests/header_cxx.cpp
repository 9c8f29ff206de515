// The public header compiled as C++, linked against the shared library.
#include <sbp/sbp.h>

#include <cstring>

int main()
{
    sbp_net *net = nullptr;
    if (sbp_net_create(SBP_ENGINE_RELAX, 1u, &net) != SBP_OK) return 1;
    sbp_net_free(net);
    return std::strcmp(sbp_status_name(SBP_E_NOMEM), "SBP_E_NOMEM") == 0 ? 0 : 1;
}
