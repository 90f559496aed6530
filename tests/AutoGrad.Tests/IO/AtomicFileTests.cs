using AutoGrad.IO;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.IO;

[TestClass]
public sealed class AtomicFileTests
{
    [TestMethod]
    public void AWriteRemovesStaleTemporaryFilesOfItsTargetOnly()
    {
        string folder = TestUtil.TempFolder("atomic");
        string target = Path.Combine(folder, "model.safetensors");
        string stale = Path.Combine(folder, $".model.safetensors.12345.{Guid.NewGuid():N}.tmp");
        string otherTarget = Path.Combine(folder, $".model.safetensors.bak.12345.{Guid.NewGuid():N}.tmp");
        string notOurs = Path.Combine(folder, ".model.safetensors.mine.tmp");
        foreach (var file in new[] { stale, otherTarget, notOurs })
        {
            File.WriteAllText(file, "left over");
        }
        AtomicFile.WriteAllText(target, "new");
        Assert.AreEqual("new", File.ReadAllText(target));
        Assert.IsFalse(File.Exists(stale), "the killed writer's temporary file is removed");
        Assert.IsTrue(File.Exists(otherTarget), "another target's temporary file is kept");
        Assert.IsTrue(File.Exists(notOurs), "a file that is not of the pattern is kept");
    }

    [TestMethod]
    public void AWriteLeavesAnotherWritersTemporaryFileAlone()
    {
        string folder = TestUtil.TempFolder("atomic");
        string target = Path.Combine(folder, "a.txt");
        string inner = Path.Combine(folder, "b.txt");
        string[] during = [];
        AtomicFile.Write(target, stream =>
        {
            // While this write is in progress, a second write of the same target runs its cleanup.
            AtomicFile.WriteAllText(target, "second");
            during = Directory.GetFiles(folder).Select(Path.GetFileName).ToArray()!;
            stream.WriteByte((byte)'1');
        });
        Assert.AreEqual(2, during.Length, "the live writer's temporary file survived: " + string.Join(", ", during));
        Assert.AreEqual("1", File.ReadAllText(target));
        Assert.AreEqual(1, Directory.GetFiles(folder).Length);
        Assert.IsFalse(File.Exists(inner));
    }

    [TestMethod]
    public void TheFolderIsFlushedAfterTheRename()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            Assert.Inconclusive("Windows has no folder fsync.");
        }
        string folder = TestUtil.TempFolder("atomic");
        string target = Path.Combine(folder, "m.safetensors");
        var flushed = new System.Collections.Concurrent.ConcurrentQueue<(string Folder, bool TargetExisted)>();
        AtomicFile.FolderFlushed = f => flushed.Enqueue((f, File.Exists(target)));
        try
        {
            AtomicFile.WriteAllText(target, "x");
        }
        finally
        {
            AtomicFile.FolderFlushed = null;
        }
        Assert.IsTrue(flushed.Contains((folder, true)), "fsync on the folder after the rename: " + string.Join(", ", flushed));
    }

    [TestMethod]
    public void AFailedWriteLeavesNoTemporaryFileAndTheOldContent()
    {
        string folder = TestUtil.TempFolder("atomic");
        string target = Path.Combine(folder, "t.txt");
        AtomicFile.WriteAllText(target, "old");
        Assert.ThrowsExactly<InvalidOperationException>(() => AtomicFile.Write(target, _ => throw new InvalidOperationException("boom")));
        Assert.AreEqual("old", File.ReadAllText(target));
        Assert.AreEqual(1, Directory.GetFiles(folder).Length);
    }
}
