using System.Diagnostics;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Packaging;

/// <summary>
/// `dotnet pack` produces the package, and a fresh console project that references it from a local folder builds
/// and trains a tiny model.
/// </summary>
[TestClass]
[TestCategory("Packaging")]
public sealed class PackageTests
{
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AutoGrad.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("AutoGrad.sln not found above the test assembly.");
    }

    private static (int ExitCode, string Output) Dotnet(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void PackedPackageIsConsumableFromALocalFolder()
    {
        string root = RepositoryRoot();
        string work = TestUtil.TempFolder("package");
        string feed = Path.Combine(work, "feed");
        string version = $"0.1.0-test{DateTime.UtcNow:yyyyMMddHHmmss}";
        var (packCode, packOutput) = Dotnet(root, "pack", "src/AutoGrad", "-c", "Release", "-o", feed, $"-p:Version={version}");
        Assert.AreEqual(0, packCode, packOutput);
        Assert.IsTrue(File.Exists(Path.Combine(feed, $"AutoGrad.{version}.nupkg")), packOutput);
        Assert.IsTrue(File.Exists(Path.Combine(feed, $"AutoGrad.{version}.snupkg")), "symbols package");
        using (var archive = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"AutoGrad.{version}.nupkg")))
        {
            var entries = archive.Entries.Select(e => e.FullName).ToHashSet();
            CollectionAssert.IsSubsetOf(new[] { "README.md", "LICENSE", "lib/net10.0/AutoGrad.dll", "lib/net10.0/AutoGrad.xml" }, entries.ToArray());
        }

        string app = Path.Combine(work, "app");
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local-autograd" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="AutoGrad" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using AutoGrad;
            using AutoGrad.Nn;
            using AutoGrad.Optim;

            var g = new Generator(1);
            var x = new Variable(Tensor.Uniform([64, 1], -1f, 1f, g));
            var y = x * 3f + 2f;
            var model = new Linear(1, 1, generator: g);
            var optimizer = new Sgd(model.Parameters(), lr: 0.5f);
            float loss = 0;
            for (int step = 0; step < 200; step++)
            {
                optimizer.ZeroGrad();
                var l = F.MseLoss(model.Call(x), y);
                l.Backward();
                optimizer.Step();
                loss = l.Item();
            }
            Console.WriteLine($"final loss {loss:E2} weight {model.Weight.Value[0, 0]:F3} bias {model.Bias!.Value[0]:F3}");
            return loss < 1e-6f ? 0 : 1;
            """);
        // Directory.Build.props and central package management of the repository must not leak into the app.
        File.WriteAllText(Path.Combine(work, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(work, "Directory.Packages.props"), "<Project />");
        try
        {
            var (runCode, runOutput) = Dotnet(app, "run", "-c", "Release");
            Assert.AreEqual(0, runCode, runOutput);
            StringAssert.Contains(runOutput, "weight 3.000 bias 2.000");
        }
        finally
        {
            string cached = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages", "autograd", version);
            if (Directory.Exists(cached))
            {
                Directory.Delete(cached, recursive: true);
            }
        }
    }
}
