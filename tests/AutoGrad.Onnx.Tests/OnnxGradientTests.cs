using AutoGrad.Onnx.Import;
using AutoGrad.Onnx.Protos;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Onnx.Tests;

/// <summary>
/// Imported graphs train: for ONNX's node tests of the differentiable ops (on their own test inputs), the gradients
/// Backward gives agree with central differences (the first output's; integer inputs are constants). Needs libonnx-testdata, as the conformance test.
/// </summary>
[TestClass]
[TestCategory("OnnxConformance")]
public sealed class OnnxGradientTests
{
    private const string NodeTests = "/usr/share/libonnx-testdata/data/node";

    /// <summary>Node tests whose float inputs are all checked, except the listed ones (BatchNorm's running statistics are state).</summary>
    private static readonly Dictionary<string, int[]> Tests = new()
    {
        ["test_gemm_all_attributes"] = [],
        ["test_matmul_4d"] = [],
        ["test_conv_with_strides_and_asymmetric_padding"] = [],
        ["test_conv_with_autopad_same"] = [],
        ["test_convtranspose_pads"] = [],
        ["test_convtranspose_output_shape"] = [],
        ["test_convtranspose_1d"] = [],
        ["test_averagepool_2d_pads"] = [],
        ["test_averagepool_2d_ceil"] = [],
        ["test_averagepool_2d_precomputed_same_upper"] = [],
        ["test_globalaveragepool"] = [],
        ["test_batchnorm_epsilon"] = [3, 4],
        ["test_instancenorm_epsilon"] = [],
        ["test_layer_normalization_3d_axis1_epsilon"] = [],
        ["test_softmax_axis_1"] = [],
        ["test_logsoftmax_axis_0_expanded"] = [],
        ["test_mvn_expanded"] = [],
        ["test_celu_expanded"] = [],
        ["test_softplus"] = [],
        ["test_tanh"] = [],
        ["test_sigmoid"] = [],
        ["test_erf"] = [],
        ["test_pow_bcast_array"] = [],
        ["test_div_bcast"] = [],
        ["test_gather_2d_indices"] = [],
        ["test_slice_neg_steps"] = [],
        ["test_transpose_all_permutations_3"] = [],
        ["test_concat_3d_axis_negative_2"] = [],
        ["test_reduce_mean_keepdims_random"] = [],
        ["test_reduce_sum_negative_axes_keepdims_random"] = [],
        ["test_flatten_negative_axis2"] = [],
        ["test_unsqueeze_two_axes"] = [],
        ["test_sce_mean_weight"] = [],
        ["test_nllloss_NCd1d2_with_weight_reduction_mean"] = [],
        ["test_gather_elements_0"] = [],
        ["test_sin"] = [],
        ["test_cos"] = [],
        ["test_depthtospace_crd_mode"] = [],
        ["test_spacetodepth"] = [],
        ["test_prelu_broadcast"] = [],
        ["test_selu"] = [],
        ["test_softsign"] = [],
        ["test_tile"] = [],
        ["test_where_example"] = [],
        ["test_max_two_inputs"] = [],
        ["test_split_equal_parts_2d"] = [],
        ["test_reduce_l2_keep_dims_random"] = [],
        ["test_reduce_log_sum_asc_axes"] = [],
        ["test_top_k"] = [],
    };

    [TestMethod]
    public void GradientsOfImportedGraphsMatchCentralDifferences()
    {
        if (!Directory.Exists(NodeTests))
        {
            Assert.Inconclusive($"{NodeTests} is missing (apt-get install -y libonnx-testdata).");
        }
        var failures = new List<string>();
        foreach (var (name, skipped) in Tests)
        {
            string directory = Path.Combine(NodeTests, name);
            var module = OnnxImporter.Load(Path.Combine(directory, "model.onnx"));
            module.Eval();
            var set = Path.Combine(directory, "test_data_set_0");
            var inputs = Directory.GetFiles(set, "input_*.pb").Order(StringComparer.Ordinal).Select((path, i) =>
            {
                var value = TensorDecoding.Decode(TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)), path);
                bool differentiable = value.IsFloat && !skipped.Contains(i);
                return new Variable(value.AsVariable().Value.Clone(), requiresGrad: differentiable);
            }).ToArray();
            var report = GradCheck.Run(args => module.Run(args)[0], inputs);
            if (!report.Passed)
            {
                failures.Add($"{name}: {report}");
            }
        }
        Assert.AreEqual(0, failures.Count, string.Join("\n", failures));
    }
}
