using AutoGrad.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Data;

[TestClass]
public sealed class CsvTests
{
    private static string Write(string text)
    {
        string path = Path.Combine(TestUtil.TempFolder("csv"), "t.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [TestMethod]
    public void IrisIsReadWithHeaderAndNamedClasses()
    {
        var table = Csv.ReadClassification(Path.Combine(AppContext.BaseDirectory, "Data", "iris.csv"));
        Assert.AreEqual(150, table.Dataset.Count);
        CollectionAssert.AreEqual(new[] { "sepal_length", "sepal_width", "petal_length", "petal_width" }, table.FeatureNames);
        CollectionAssert.AreEqual(new[] { 50, 50, 50 }, table.Dataset.Labels.GroupBy(l => l).Select(g => g.Count()).ToArray());
        CollectionAssert.AreEqual(new[] { 5.1f, 3.5f, 1.4f, 0.2f }, table.Dataset.Features.ToArray()[..4]);
    }

    [TestMethod]
    public void HeaderlessNumericLabelsInAnyColumn()
    {
        var table = Csv.ReadClassification(Write("2,1.5,-3\n0,2.5,4e1\n\n1,0,0\n"), labelColumn: 0);
        CollectionAssert.AreEqual(new[] { 2, 0, 1 }, table.Dataset.Labels);
        CollectionAssert.AreEqual(new[] { 1.5f, -3f, 2.5f, 40f, 0f, 0f }, table.Dataset.Features.ToArray());
        CollectionAssert.AreEqual(new[] { "0", "1", "2" }, table.ClassNames);
    }

    [TestMethod]
    [DataRow("a,b,label\n1,2,x\n3,y\n", "line 3 has 2 fields, expected 3")]
    [DataRow("a,b,label\n1,2,x\n3,oops,y\n", "line 3, column 2: 'oops' is not a number")]
    [DataRow("a,b,label\n", "no data rows")]
    [DataRow("", "no rows")]
    [DataRow("a,b,label\n1,2,\n", "label (column 3) is empty")]
    public void BadRowsThrowInvalidDataNamingTheLine(string text, string expected)
    {
        string path = Write(text);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Csv.ReadClassification(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, expected);
    }
}
