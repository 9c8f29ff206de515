"""Parameter descriptions and typed get/set on layers, rules and networks."""

import math
import unittest

import sbp


class TestParamInfo(unittest.TestCase):
    def test_every_parameter(self):
        for p in sbp.Param:
            with self.subTest(param=p.name):
                info = sbp.param_info(p)
                self.assertIs(info.param, p)
                self.assertTrue(info.name)
                self.assertIs(sbp.param_by_name(info.name), p)
                self.assertIsInstance(info.type, sbp.ParamType)
                self.assertLessEqual(info.min, info.max)
                if info.default is not None:
                    self.assertTrue(info.min <= info.default <= info.max)
                if info.type == sbp.ParamType.INT:
                    self.assertIsInstance(info.min, int)
                # the dotted name's group matches the enum name's
                group = info.name.split(".")[0]
                self.assertTrue(p.name.lower().startswith(
                    {"homeo": "homeo", "spread": "spread"}.get(group, group)),
                    "%s vs %s" % (p.name, info.name))

    def test_known_values(self):
        info = sbp.param_info("relax.beta")
        self.assertEqual((info.type, info.default, info.unit), (sbp.ParamType.REAL, 0.5, ""))
        info = sbp.param_info(sbp.Param.NET_BATCH_SIZE)
        self.assertEqual((info.name, info.type, info.default), ("net.batch_size",
                                                                sbp.ParamType.INT, 50))
        self.assertEqual(sbp.param_info(0x205).unit, "ms")
        self.assertIs(sbp.param_info("relax.base_rule").default, sbp.BaseRule.SBP)
        self.assertIsNone(sbp.param_info("layer.activation").default)

    def test_params_list(self):
        self.assertEqual([i.param for i in sbp.params()], list(sbp.Param))

    def test_bad_arguments(self):
        with self.assertRaises(TypeError):
            sbp.param_info(1.5)
        with self.assertRaises(TypeError):
            sbp.param_by_name(0x100)


class TestGetSet(unittest.TestCase):
    def test_layer(self):
        with sbp.Layer(784, learning_rate=0.1, t_ref=3) as layer:
            self.assertEqual(layer.size, 784)
            self.assertEqual(layer.get("layer.learning_rate"), 0.1)
            self.assertEqual(layer[sbp.Param.LAYER_T_REF], 3)
            self.assertIsNone(layer["layer.activation"])  # the engine chooses
            layer["layer.activation"] = sbp.Activation.TANH
            self.assertIs(layer["layer.activation"], sbp.Activation.TANH)
            layer.set(int(sbp.Param.LAYER_V_TH), 2)  # int accepted for a real parameter
            self.assertEqual(layer.get(sbp.Param.LAYER_V_TH), 2.0)
            self.assertIsInstance(layer.get(sbp.Param.LAYER_V_TH), float)
            self.assertIn("784", repr(layer))

    def test_rule(self):
        with sbp.Rule(sbp.RuleKind.STDP, a_plus=0.02, multiplicative=1) as rule:
            self.assertIs(rule.kind, sbp.RuleKind.STDP)
            self.assertEqual(rule["stdp.a_plus"], 0.02)
            self.assertEqual(rule["stdp.multiplicative"], 1)
            self.assertAlmostEqual(rule["stdp.a_minus"], 0.0105)
        with sbp.Rule("rbm_cd", k=3, persistent=1) as rule:
            self.assertIs(rule.kind, sbp.RuleKind.RBM_CD)
            self.assertEqual(rule["cd.k"], 3)
            self.assertEqual(rule["cd.persistent"], 1)
            with self.assertRaises(sbp.Error):
                rule["spread.lambda_f"] = 0.5  # the spread is its own rule
        with sbp.Rule(sbp.RuleKind.SBP_SPREAD) as rule:
            rule.update(form=sbp.SpreadForm.ADDITIVE, fraction=0.3)
            self.assertIs(rule["spread.form"], sbp.SpreadForm.ADDITIVE)
            with self.assertRaises(sbp.Error):
                rule["stdp.a_plus"] = 0.1  # not a spread parameter

    def test_network(self):
        with sbp.Network("relax", seed=5, beta=0.25, batch_size=10) as net:
            self.assertIs(net.engine, sbp.Engine.RELAX)
            self.assertEqual(net["relax.beta"], 0.25)
            self.assertEqual(net["net.batch_size"], 10)
            self.assertIs(net["relax.base_rule"], sbp.BaseRule.SBP)
            net["relax.base_rule"] = sbp.BaseRule.SYMMETRIC
            self.assertIs(net.get(sbp.Param.RELAX_BASE_RULE), sbp.BaseRule.SYMMETRIC)
            net.set(sbp.Param.NET_THREADS, 0)
            self.assertEqual(net["net.threads"], 0)
            self.assertTrue(math.isclose(net["relax.dt"], 0.1))

    def test_engine_groups(self):
        with sbp.Network(sbp.Engine.ANN) as net:
            net.update(momentum=0.5, optimizer=sbp.Optimizer.ADAM)
            self.assertEqual(net["ann.momentum"], 0.5)
            self.assertIs(net["ann.optimizer"], sbp.Optimizer.ADAM)
        with sbp.Network(sbp.Engine.SPIKE) as net:
            net["spike.steps"] = 20
            self.assertEqual(net["spike.steps"], 20)


if __name__ == "__main__":
    unittest.main()
