using AutoGrad.Onnx.Protos;
using Google.Protobuf;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Onnx.Tests;

/// <summary>
/// A file the importer cannot run gives InvalidDataException (malformed: truncated, wrong types, missing inputs, bad
/// shapes) or NotSupportedException (valid ONNX the importer lacks), each naming the file or node and what was expected.
/// </summary>
[TestClass]
[TestCategory("Onnx")]
public sealed class OnnxImportErrorTests
{
    private static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", name);

    private static ModelProto Mlp() => ModelProto.Parser.ParseFrom(File.ReadAllBytes(FixturePath("mlp.onnx")));

    private static Variable Input(int batch = 2) => new(Tensor.Randn(new Generator(1), batch, 12));

    [TestMethod]
    public void UnsupportedOperatorNamesOpNodeAndOpset()
    {
        var model = Mlp();
        model.Graph.Node[1].OpType = "Resize";
        var e = Assert.ThrowsExactly<NotSupportedException>(() => OnnxImporter.Load(model.ToByteArray()));
        StringAssert.Contains(e.Message, "'Resize'");
        StringAssert.Contains(e.Message, $"node '{model.Graph.Node[1].Name}'");
        StringAssert.Contains(e.Message, "opset 17");
    }

    [TestMethod]
    public void TruncatedFileNamesTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"truncated-{Environment.ProcessId}.onnx");
        var bytes = File.ReadAllBytes(FixturePath("mlp.onnx"));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        try
        {
            var e = Assert.ThrowsExactly<InvalidDataException>(() => OnnxImporter.Load(path));
            StringAssert.Contains(e.Message, path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void MissingInputNamesNodeAndInput()
    {
        var model = Mlp();
        model.Graph.Node[0].Input[1] = "no.such.weight";
        var e = Assert.ThrowsExactly<InvalidDataException>(() => OnnxImporter.Load(model.ToByteArray()));
        StringAssert.Contains(e.Message, "'no.such.weight'");
        StringAssert.Contains(e.Message, model.Graph.Node[0].Name);
    }

    [TestMethod]
    public void InitializerOfWrongSizeIsRefused()
    {
        var model = Mlp();
        model.Graph.Initializer[0].Dims[0] = 33;
        var e = Assert.ThrowsExactly<InvalidDataException>(() => OnnxImporter.Load(model.ToByteArray()));
        StringAssert.Contains(e.Message, "'0.weight'");
    }

    [TestMethod]
    public void AttributeOfWrongTypeIsRefused()
    {
        var model = Mlp();
        var gemm = model.Graph.Node.First(n => n.OpType == "Gemm");
        gemm.Attribute.First(a => a.Name == "transB").Type = AttributeProto.Types.AttributeType.Float;
        var module = OnnxImporter.Load(model.ToByteArray());
        var e = Assert.ThrowsExactly<InvalidDataException>(() => module.Call(Input()));
        StringAssert.Contains(e.Message, "'transB'");
        StringAssert.Contains(e.Message, gemm.Name);
    }

    [TestMethod]
    public void WeightOfBadShapeNamesTheNode()
    {
        var model = Mlp();
        var weight = model.Graph.Initializer[2]; // 2.weight [16, 32] read as [32, 16]
        (weight.Dims[0], weight.Dims[1]) = (weight.Dims[1], weight.Dims[0]);
        var module = OnnxImporter.Load(model.ToByteArray());
        var e = Assert.ThrowsExactly<InvalidDataException>(() => module.Call(Input()));
        StringAssert.Contains(e.Message, "(Gemm, opset 17)");
    }

    [TestMethod]
    public void WrongInputShapeIsTheCallersError()
    {
        var module = OnnxImporter.Load(FixturePath("mlp.onnx"));
        var e = Assert.ThrowsExactly<ArgumentException>(() => module.Call(new Variable(Tensor.Zeros(2, 11))));
        StringAssert.Contains(e.Message, "'input'");
    }

    /// <summary>A one-node opset-17 graph whose inputs are float tensors of unknown shape (a test's own model).</summary>
    private static OnnxModule OneNode(NodeProto node)
    {
        var graph = new GraphProto { Name = "one-node" };
        graph.Node.Add(node);
        foreach (var input in node.Input)
        {
            graph.Input.Add(new ValueInfoProto { Name = input, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        }
        graph.Output.Add(new ValueInfoProto { Name = node.Output[0] });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        return OnnxImporter.Load(model.ToByteArray());
    }

    /// <summary>Found by the fuzz target (FuzzTargets.LoadAndRunOnnx): a float Range of delta 0 asked for int.MaxValue elements (OutOfMemoryException).</summary>
    [TestMethod]
    public void RangeWithoutFiniteLengthIsRefused()
    {
        var node = new NodeProto { Name = "r", OpType = "Range", Input = { "start", "limit", "delta" }, Output = { "y" } };
        var module = OneNode(node);
        Variable Scalar(float v) => new(Tensor.Scalar(v));
        var e = Assert.ThrowsExactly<InvalidDataException>(() => module.Run(Scalar(0), Scalar(5), Scalar(0)));
        StringAssert.Contains(e.Message, "delta is 0");
        e = Assert.ThrowsExactly<InvalidDataException>(() => module.Run(Scalar(0), Scalar(3e9f), Scalar(1)));
        StringAssert.Contains(e.Message, "elements; at most 2147483647 fit");
        e = Assert.ThrowsExactly<InvalidDataException>(() => module.Run(new Variable(Tensor.Zeros(0)), Scalar(5), Scalar(1)));
        StringAssert.Contains(e.Message, "must be scalars");
        Assert.AreEqual(3, module.Run(Scalar(0), Scalar(3), Scalar(1))[0].Value.Length);
    }

    /// <summary>Sizes are 64-bit in the file and int in AutoGrad: one beyond 32 bits was an OverflowException (review of the checked casts).</summary>
    [TestMethod]
    public void SizeBeyond32BitsIsRefused()
    {
        var node = new NodeProto { Name = "d2s", OpType = "DepthToSpace", Input = { "x" }, Output = { "y" } };
        node.Attribute.Add(new AttributeProto { Name = "blocksize", Type = AttributeProto.Types.AttributeType.Int, I = 1L << 40 });
        var module = OneNode(node);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => module.Call(new Variable(Tensor.Zeros(1, 4, 2, 2))));
        StringAssert.Contains(e.Message, "node 'd2s' (DepthToSpace, opset 17)");
        StringAssert.Contains(e.Message, "does not fit in 32 bits");
    }
}
