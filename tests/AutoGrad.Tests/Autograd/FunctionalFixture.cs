using System.Text.Json;

namespace AutoGrad.Tests.Autograd;

/// <summary>fixtures/functional.json (tests/reference/generate_functional.py), parsed once for the tests that read it.</summary>
internal static class FunctionalFixture
{
    private static readonly Lazy<JsonElement> Document = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestUtil.FixturePath("functional.json")));
        return document.RootElement.Clone();
    });

    public static JsonElement Root => Document.Value;
}
