using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Arm64;

/// <summary>
/// Proves that the lane ran what it is for: an arm64 process whose Vector128 is accelerated by AdvSimd (NEON), so the
/// kernels take their 128-bit paths rather than the scalar fallback.
/// </summary>
[TestClass]
public sealed class PlatformReport
{
    [TestMethod]
    public void RunsOnArm64WithAcceleratedVector128()
    {
        string report = $"arm64 lane: ProcessArchitecture={RuntimeInformation.ProcessArchitecture}, AdvSimd={AdvSimd.IsSupported}, "
            + $"AdvSimd.Arm64={AdvSimd.Arm64.IsSupported}, Vector128={Vector128.IsHardwareAccelerated}, "
            + $"Vector256={Vector256.IsHardwareAccelerated}, Vector<float>.Count={Vector<float>.Count}";
        // run.sh greps this line out of the runner's output (test output is shown only with --output detailed).
        Console.Error.WriteLine(report);
        Assert.AreEqual(Architecture.Arm64, RuntimeInformation.ProcessArchitecture, report);
        Assert.IsTrue(AdvSimd.Arm64.IsSupported && Vector128.IsHardwareAccelerated, report);
    }
}
