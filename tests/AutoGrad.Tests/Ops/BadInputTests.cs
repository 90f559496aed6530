using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Ops;

/// <summary>
/// Bad input gets ArgumentException (or InvalidOperationException for graph misuse) whose message names the op and
/// the shapes involved: never an IndexOutOfRangeException, never a silently wrong result.
/// </summary>
[TestClass]
public sealed class BadInputTests
{
    private static readonly Variable A23 = new(Tensor.Zeros(2, 3), requiresGrad: true);
    private static readonly Variable B4 = new(Tensor.Zeros(4), requiresGrad: true);
    private static readonly Variable Image = new(Tensor.Zeros(2, 3, 8, 8), requiresGrad: true);

    public static IEnumerable<object[]> ArgumentCases =>
    [
        ["Add", (Action)(() => _ = A23 + B4), "[2, 3]"],
        ["Sub", (Action)(() => _ = A23 - B4), "[4]"],
        ["Mul", (Action)(() => _ = A23 * B4), "[2, 3]"],
        ["Div", (Action)(() => _ = A23 / B4), "[2, 3]"],
        ["MatMul", (Action)(() => _ = A23.MatMul(A23)), "[2, 3]"],
        ["MatMul", (Action)(() => _ = A23.MatMul(new Variable(Tensor.Scalar(1f)))), "[]"],
        ["MatMul", (Action)(() => _ = B4.MatMul(A23)), "[4]"],
        ["Sum", (Action)(() => _ = A23.Sum(2)), "[2, 3]"],
        ["Mean", (Action)(() => _ = A23.Mean([-3])), "[2, 3]"],
        ["Sum", (Action)(() => _ = A23.Sum([1, -1])), "1"],
        ["Max", (Action)(() => _ = A23.Max(5)), "[2, 3]"],
        ["Min", (Action)(() => _ = A23.Min(-4)), "[2, 3]"],
        ["Max", (Action)(() => _ = new Variable(Tensor.Zeros(2, 0)).Max(1)), "[2, 0]"],
        ["Transpose", (Action)(() => _ = A23.Transpose(0, 2)), "[2, 3]"],
        ["Permute", (Action)(() => _ = A23.Permute(0)), "[2, 3]"],
        ["Permute", (Action)(() => _ = A23.Permute(1, 1)), "[1, 1]"],
        ["Squeeze", (Action)(() => _ = A23.Squeeze(2)), "[2, 3]"],
        ["Unsqueeze", (Action)(() => _ = A23.Unsqueeze(4)), "[2, 3]"],
        ["Reshape", (Action)(() => _ = A23.Reshape(4, 2)), "[2, 3]"],
        ["Reshape", (Action)(() => _ = A23.Reshape(-1, -1)), "[-1, -1]"],
        ["Concat", (Action)(() => _ = F.Concat([A23, B4.Reshape(2, 2)], 0)), "[2, 2]"],
        ["Concat", (Action)(() => _ = F.Concat([A23, A23], 2)), "[2, 3]"],
        ["Concat", (Action)(() => _ = F.Concat([], 0)), ""],
        ["Slice", (Action)(() => _ = A23.Slice(1, 0, 2, 0)), "0"],
        ["Slice", (Action)(() => _ = A23.Slice(2, 0)), "[2, 3]"],
        ["IndexSelect", (Action)(() => _ = A23.IndexSelect(1, [0, 3])), "[2, 3]"],
        ["IndexSelect", (Action)(() => _ = A23.IndexSelect(-3, [0])), "[2, 3]"],
        ["Clamp", (Action)(() => _ = A23.Clamp()), ""],
        ["Conv2d", (Action)(() => _ = F.Conv2d(Image, new Variable(Tensor.Zeros(4, 2, 3, 3)))), "[2, 3, 8, 8]"],
        ["Conv2d", (Action)(() => _ = F.Conv2d(Image, new Variable(Tensor.Zeros(4, 3, 9, 9)))), "[2, 3, 8, 8]"],
        ["Conv2d", (Action)(() => _ = F.Conv2d(A23, new Variable(Tensor.Zeros(4, 3, 3, 3)))), "[2, 3]"],
        ["Conv2d", (Action)(() => _ = F.Conv2d(Image, new Variable(Tensor.Zeros(4, 3, 3, 3)), new Variable(Tensor.Zeros(3)))), "[3]"],
        ["Conv2d", (Action)(() => _ = F.Conv2d(Image, new Variable(Tensor.Zeros(4, 3, 3, 3)), stride: 0)), "stride (0, 0)"],
        ["ConvTranspose2d", (Action)(() => _ = F.ConvTranspose2d(Image, new Variable(Tensor.Zeros(2, 4, 3, 3)))), "[2, 3, 8, 8]"],
        ["ConvTranspose2d", (Action)(() => _ = F.ConvTranspose2d(A23, new Variable(Tensor.Zeros(3, 4, 3, 3)))), "[2, 3]"],
        ["ConvTranspose2d", (Action)(() => _ = F.ConvTranspose2d(Image, new Variable(Tensor.Zeros(3, 4, 3, 3)), new Variable(Tensor.Zeros(3)))), "[3]"],
        ["ConvTranspose2d", (Action)(() => _ = F.ConvTranspose2d(Image, new Variable(Tensor.Zeros(3, 4, 3, 3)), groups: 2)), "[2, 3, 8, 8]"],
        ["ConvTranspose2d", (Action)(() => _ = F.ConvTranspose2d(Image, new Variable(Tensor.Zeros(3, 4, 3, 3)), stride: 2, outputPadding: 2)), "output padding (2, 2)"],
        ["ConvTranspose2d", (Action)(() => _ = F.ConvTranspose2d(Image, new Variable(Tensor.Zeros(3, 4, 1, 1)), padding: 5)), "-2x-2"],
        ["MaxPool2d", (Action)(() => _ = F.MaxPool2d(Image, 9)), "[2, 3, 8, 8]"],
        ["AvgPool2d", (Action)(() => _ = F.AvgPool2d(Image, 2, 2, 2)), "(2, 2)"],
        ["CrossEntropy", (Action)(() => _ = F.CrossEntropy(A23, [0, 3])), "[2, 3]"],
        ["CrossEntropy", (Action)(() => _ = F.CrossEntropy(A23, [0, 1, 2])), "[2, 3]"],
        ["CrossEntropy", (Action)(() => _ = F.CrossEntropy(A23, Tensor.FromArray([0.5f, 1f]))), "0.5"],
        ["CrossEntropy", (Action)(() => _ = F.CrossEntropy(A23, new Variable(Tensor.Zeros(3, 2)))), "[3, 2]"],
        ["CrossEntropy", (Action)(() => _ = F.CrossEntropy(B4, [0])), "[4]"],
        ["NllLoss", (Action)(() => _ = F.NllLoss(A23, [-1, 0])), "[2, 3]"],
        ["MseLoss", (Action)(() => _ = F.MseLoss(A23, B4)), "[2, 3]"],
        ["BinaryCrossEntropy", (Action)(() => _ = F.BinaryCrossEntropy(new Variable(Tensor.Full([2], 0.5f)), new Variable(Tensor.FromArray([0f, 2f])))), "[2]"],
        ["BinaryCrossEntropy", (Action)(() => _ = F.BinaryCrossEntropy(new Variable(Tensor.FromArray([1.5f])), new Variable(Tensor.FromArray([1f])))), "[1]"],
        ["BinaryCrossEntropyWithLogits", (Action)(() => _ = F.BinaryCrossEntropyWithLogits(A23, B4)), "[2, 3]"],
        ["Dropout", (Action)(() => _ = F.Dropout(A23, 1.5f)), "1.5"],
        ["Flatten", (Action)(() => _ = F.Flatten(Image, 3, 1)), "[2, 3, 8, 8]"],
        ["Softmax", (Action)(() => _ = F.Softmax(A23, 2)), "[2, 3]"],
        ["FromArray", (Action)(() => Tensor.FromArray([1f, 2f, 3f], 2, 2)), "[2, 2]"],
        ["Tensor indexer", (Action)(() => _ = Tensor.Zeros(2, 3)[2, 0]), "[2, 3]"],
        ["Tensor indexer", (Action)(() => _ = Tensor.Zeros(2, 3)[1]), "[2, 3]"],
        ["Backward", (Action)(() => (A23 * 2f).Backward(Tensor.Zeros(3, 2))), "[3, 2]"],
    ];

    [TestMethod]
    [DynamicData(nameof(ArgumentCases))]
    public void ArgumentErrorsNameTheOpAndTheShapes(string op, Action action, string fragment)
    {
        var error = Assert.Throws<ArgumentException>(action);
        StringAssert.Contains(error.Message, op);
        StringAssert.Contains(error.Message, fragment);
    }

    [TestMethod]
    public void GraphMisuseThrowsInvalidOperationWithAClearMessage()
    {
        var x = new Variable(Tensor.Ones(2, 3), requiresGrad: true);
        var nonScalar = x * 2f;
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => nonScalar.Backward());
        StringAssert.Contains(error.Message, "[2, 3]");

        var constant = new Variable(Tensor.Ones(2));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => constant.Sum().Backward()).Message, "does not require grad");

        var y = (x * x).Sum();
        y.Backward();
        var released = Assert.ThrowsExactly<InvalidOperationException>(() => y.Backward());
        StringAssert.Contains(released.Message, "retainGraph");
        StringAssert.Contains(released.Message, "Sum");

        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => nonScalar.RequiresGrad = false).Message, "Mul");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => Tensor.Zeros(2).Item()).Message, "[2]");
    }
}
