using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>
/// The softmax and log-softmax backward kernel against the formulas in double precision, along the last dim and along
/// a middle one, at lengths that cross every vector width.
/// </summary>
[TestClass]
public sealed class SoftmaxKernelTests
{
    [TestMethod]
    [DataRow(3, 1, 1, false)]
    [DataRow(4, 37, 1, false)]
    [DataRow(2, 64, 1, true)]
    [DataRow(3, 5, 19, false)]
    [DataRow(2, 7, 33, true)]
    public void BackwardMatchesTheFormula(int outer, int size, int inner, bool log)
    {
        int n = outer * size * inner;
        var x = KernelTestData.Values(n, 1, specials: false);
        var grad = KernelTestData.Values(n, 2, specials: false);
        var y = new float[n];
        SoftmaxKernel.Forward(x, outer, size, inner, y, log);
        var dx = new float[n];
        SoftmaxKernel.Backward(y, grad, outer, size, inner, dx, log);
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < inner; c++)
            {
                int At(int r) => (o * size + r) * inner + c;
                double total = 0;
                for (int r = 0; r < size; r++)
                {
                    total += log ? grad[At(r)] : (double)grad[At(r)] * y[At(r)];
                }
                for (int r = 0; r < size; r++)
                {
                    double expected = log ? grad[At(r)] - Math.Exp(y[At(r)]) * total : y[At(r)] * (grad[At(r)] - total);
                    Assert.AreEqual(expected, dx[At(r)], 1e-5 + 1e-4 * Math.Abs(expected), $"element {At(r)}");
                }
            }
        }
    }
}
