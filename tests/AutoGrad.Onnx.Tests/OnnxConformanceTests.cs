using System.Diagnostics;
using AutoGrad.Onnx.Import;
using AutoGrad.Onnx.Protos;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Onnx.Tests;

/// <summary>
/// ONNX's own backend node tests (Debian's libonnx-testdata, ONNX 1.12: /usr/share/libonnx-testdata/data/node):
/// every test whose operators the importer lists as supported runs in evaluation mode and must give the expected
/// outputs within ONNX's backend-test tolerance (rtol 1e-3, atol 1e-7), except the variants excluded below with
/// their reasons. Without the package (apt-get install libonnx-testdata) the test is inconclusive.
/// </summary>
[TestClass]
[TestCategory("OnnxConformance")]
public sealed class OnnxConformanceTests
{
    private const string NodeTests = "/usr/share/libonnx-testdata/data/node";
    private const double RelativeTolerance = 1e-3;
    private const double AbsoluteTolerance = 1e-7;

    /// <summary>Variants the importer refuses with NotSupportedException (the test checks it does).</summary>
    private static readonly Dictionary<string, string> Unsupported = new()
    {
        ["test_averagepool_3d_default"] = "3-D pooling",
        ["test_maxpool_3d_default"] = "3-D pooling",
        ["test_convtranspose_3d"] = "3-D convolution",
        ["test_maxpool_2d_dilations"] = "pooling with dilations",
        ["test_maxpool_2d_uint8"] = "uint8 pooling (AutoGrad computes in float32)",
        ["test_maxpool_with_argmax_2d_precomputed_pads"] = "MaxPool's Indices output",
        ["test_maxpool_with_argmax_2d_precomputed_strides"] = "MaxPool's Indices output",
        ["test_identity_opt"] = "optional types",
        ["test_identity_sequence"] = "sequence types",
        ["test_pow_types_float"] = "integer base",
        ["test_pow_types_int32_float32"] = "integer base",
        ["test_pow_types_int32_int32"] = "integer base",
        ["test_pow_types_int64_float32"] = "integer base",
        ["test_pow_types_int64_int64"] = "integer base",
        ["test_cast_BFLOAT16_to_FLOAT"] = "bfloat16",
        ["test_cast_FLOAT_to_BFLOAT16"] = "bfloat16",
        ["test_castlike_BFLOAT16_to_FLOAT_expanded"] = "bfloat16",
        ["test_castlike_FLOAT_to_BFLOAT16_expanded"] = "bfloat16",
        ["test_cast_DOUBLE_to_FLOAT"] = "float64",
        ["test_cast_FLOAT_to_DOUBLE"] = "float64",
        ["test_castlike_DOUBLE_to_FLOAT_expanded"] = "float64",
        ["test_castlike_FLOAT_to_DOUBLE_expanded"] = "float64",
        ["test_cast_DOUBLE_to_FLOAT16"] = "float64 and float16",
        ["test_cast_FLOAT16_to_DOUBLE"] = "float64 and float16",
        ["test_castlike_DOUBLE_to_FLOAT16_expanded"] = "float64 and float16",
        ["test_castlike_FLOAT16_to_DOUBLE_expanded"] = "float64 and float16",
        ["test_cast_FLOAT16_to_FLOAT"] = "float16",
        ["test_cast_FLOAT_to_FLOAT16"] = "float16",
        ["test_castlike_FLOAT16_to_FLOAT_expanded"] = "float16",
        ["test_castlike_FLOAT_to_FLOAT16_expanded"] = "float16",
        ["test_max_float16"] = "float16",
        ["test_min_float16"] = "float16",
        ["test_max_float64"] = "float64",
        ["test_min_float64"] = "float64",
        ["test_reduce_log_sum_exp_default_axes_keepdims_example"] = "float64",
        ["test_reduce_log_sum_exp_default_axes_keepdims_random"] = "float64",
        ["test_reduce_log_sum_exp_do_not_keepdims_example"] = "float64",
        ["test_reduce_log_sum_exp_do_not_keepdims_random"] = "float64",
        ["test_reduce_log_sum_exp_keepdims_example"] = "float64",
        ["test_reduce_log_sum_exp_keepdims_random"] = "float64",
        ["test_reduce_log_sum_exp_negative_axes_keepdims_example"] = "float64",
        ["test_reduce_log_sum_exp_negative_axes_keepdims_random"] = "float64",
        ["test_castlike_BFLOAT16_to_FLOAT"] = "bfloat16",
        ["test_castlike_FLOAT_to_BFLOAT16"] = "bfloat16",
        ["test_castlike_DOUBLE_to_FLOAT"] = "float64",
        ["test_castlike_FLOAT_to_DOUBLE"] = "float64",
        ["test_castlike_DOUBLE_to_FLOAT16"] = "float64 and float16",
        ["test_castlike_FLOAT16_to_DOUBLE"] = "float64 and float16",
        ["test_castlike_FLOAT16_to_FLOAT"] = "float16",
        ["test_castlike_FLOAT_to_FLOAT16"] = "float16",
        ["test_castlike_FLOAT_to_STRING"] = "strings",
        ["test_castlike_STRING_to_FLOAT"] = "strings",
        ["test_cumsum_1d"] = "float64",
        ["test_cumsum_1d_exclusive"] = "float64",
        ["test_cumsum_1d_reverse"] = "float64",
        ["test_cumsum_1d_reverse_exclusive"] = "float64",
        ["test_cumsum_2d_axis_0"] = "float64",
        ["test_cumsum_2d_axis_1"] = "float64",
        ["test_cumsum_2d_negative_axis"] = "float64",
        ["test_nllloss_NCd1d2d3d4d5_mean_weight"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_nllloss_NCd1d2d3d4d5_mean_weight_expanded"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_nllloss_NCd1d2d3d4d5_none_no_weight"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_nllloss_NCd1d2d3d4d5_none_no_weight_expanded"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_sce_NCd1d2d3d4d5_mean_weight"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_sce_NCd1d2d3d4d5_mean_weight_expanded"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_sce_NCd1d2d3d4d5_mean_weight_log_prob"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_sce_NCd1d2d3d4d5_mean_weight_log_prob_expanded"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_sce_NCd1d2d3d4d5_none_no_weight"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_sce_NCd1d2d3d4d5_none_no_weight_expanded"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_sce_NCd1d2d3d4d5_none_no_weight_log_prob"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_sce_NCd1d2d3d4d5_none_no_weight_log_prob_expanded"] = "rank 7 (AutoGrad's tensors have at most 6 dims)",
        ["test_cast_FLOAT_to_STRING"] = "strings",
        ["test_cast_STRING_to_FLOAT"] = "strings",
        ["test_castlike_FLOAT_to_STRING_expanded"] = "strings",
        ["test_castlike_STRING_to_FLOAT_expanded"] = "strings",
    };

    /// <summary>Variants that run but by design differ from the test's expectation.</summary>
    private static readonly Dictionary<string, string> Divergent = new()
    {
        ["test_batchnorm_epsilon_training_mode"] = "the module's mode decides, not the training_mode attribute (PyTorch's rule), and the running variance is updated unbiased as in PyTorch",
        ["test_batchnorm_example_training_mode"] = "the module's mode decides, not the training_mode attribute (PyTorch's rule), and the running variance is updated unbiased as in PyTorch",
        ["test_training_dropout"] = "the module's mode decides (evaluation here), and a training mask cannot reproduce numpy's random draws anyway",
        ["test_training_dropout_default"] = "the module's mode decides (evaluation here), and a training mask cannot reproduce numpy's random draws anyway",
        ["test_training_dropout_default_mask"] = "the module's mode decides (evaluation here), and a training mask cannot reproduce numpy's random draws anyway",
        ["test_training_dropout_mask"] = "the module's mode decides (evaluation here), and a training mask cannot reproduce numpy's random draws anyway",
    };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void NodeTestsOfSupportedOperatorsPass()
    {
        if (!Directory.Exists(NodeTests))
        {
            Assert.Inconclusive($"{NodeTests} is missing (apt-get install -y libonnx-testdata).");
        }
        var clock = Stopwatch.StartNew();
        var supported = OnnxImporter.SupportedOperators.ToHashSet();
        var failures = new List<string>();
        int ran = 0, passed = 0, excluded = 0, unsupportedOps = 0;
        foreach (var directory in Directory.GetDirectories(NodeTests).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(directory);
            string modelPath = Path.Combine(directory, "model.onnx");
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
            if (!model.Graph.Node.All(n => supported.Contains(n.OpType) && n.Domain is "" or "ai.onnx"))
            {
                unsupportedOps++;
                continue;
            }
            if (Unsupported.TryGetValue(name, out var reason))
            {
                excluded++;
                if (!ThrowsNotSupported(modelPath, directory))
                {
                    failures.Add($"{name}: excluded as unsupported ({reason}) but ran without NotSupportedException");
                }
                continue;
            }
            if (Divergent.ContainsKey(name))
            {
                excluded++;
                continue;
            }
            ran++;
            try
            {
                RunTest(modelPath, directory);
                passed++;
            }
            catch (Exception e) when (e is AssertFailedException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException)
            {
                failures.Add($"{name}: {e.GetType().Name}: {e.Message}");
            }
        }
        TestContext.WriteLine($"ONNX node tests: {passed}/{ran} passed ({100.0 * passed / Math.Max(ran, 1):F1}%), {excluded} excluded with reasons, "
            + $"{unsupportedOps} use unsupported operators; {clock.Elapsed.TotalSeconds:F1} s.");
        Assert.AreEqual(0, failures.Count, $"{failures.Count} of {ran} node tests failed:\n" + string.Join("\n", failures));
    }

    private static bool ThrowsNotSupported(string modelPath, string directory)
    {
        try
        {
            RunTest(modelPath, directory);
            return false;
        }
        catch (NotSupportedException)
        {
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private static void RunTest(string modelPath, string directory)
    {
        var module = OnnxImporter.Load(modelPath);
        module.Eval();
        foreach (var set in Directory.GetDirectories(directory, "test_data_set_*").Order(StringComparer.Ordinal))
        {
            var inputs = Files(set, "input").Select(f => ReadTensor(f).AsVariable()).ToArray();
            var expected = Files(set, "output").Select(ReadTensor).ToArray();
            IReadOnlyList<Variable> actual;
            using (GradMode.NoGrad())
            {
                actual = module.Run(inputs);
            }
            Assert.AreEqual(expected.Length, actual.Count, $"{Path.GetFileName(set)}: number of outputs");
            for (int i = 0; i < expected.Length; i++)
            {
                Compare(expected[i], actual[i], $"{Path.GetFileName(set)} output {i}");
            }
        }
    }

    private static string[] Files(string set, string prefix)
        => Directory.GetFiles(set, prefix + "_*.pb").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)[(prefix.Length + 1)..])).ToArray();

    private static OnnxValue ReadTensor(string path) => TensorDecoding.Decode(TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)), path);

    private static void Compare(OnnxValue expected, Variable actual, string what)
    {
        CollectionAssert.AreEqual(expected.Shape, actual.Shape.ToArray(), $"{what}: shape [{string.Join(", ", expected.Shape)}] expected, got [{string.Join(", ", actual.Shape.ToArray())}]");
        var want = expected.AsVariable().Value.AsReadOnlySpan();
        var got = actual.Value.AsReadOnlySpan();
        for (int i = 0; i < want.Length; i++)
        {
            double e = want[i], a = got[i];
            bool same = double.IsNaN(e) ? double.IsNaN(a) : e == a || Math.Abs(a - e) <= AbsoluteTolerance + RelativeTolerance * Math.Abs(e);
            if (!same)
            {
                Assert.Fail($"{what}: element {i} is {a:R}; expected {e:R} (rtol {RelativeTolerance}, atol {AbsoluteTolerance})");
            }
        }
    }
}
