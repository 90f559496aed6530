using AutoGrad.Metrics;
using ScottPlot;

namespace AutoGrad.Samples.Common;

/// <summary>PNG charts drawn with ScottPlot: training curves and labelled image grids.</summary>
public static class Charts
{
    /// <summary>Training loss per epoch (and validation loss when measured).</summary>
    public static byte[] LossCurve(History history, string title)
        => Curves(history, title, "cross-entropy",
            ("training loss", e => e.TrainLoss), ("validation loss", e => e.ValidationLoss));

    /// <summary>Validation (and training) accuracy per epoch.</summary>
    public static byte[] AccuracyCurve(History history, string title)
        => Curves(history, title, "accuracy",
            ("validation accuracy", e => e.ValidationAccuracy ?? 0f), ("training accuracy", e => e.TrainAccuracy));

    /// <summary>One line per series over the epochs; a series with an unmeasured epoch (null) is left out.</summary>
    private static byte[] Curves(History history, string title, string yLabel, params (string Label, Func<EpochRecord, float?> Value)[] series)
    {
        var plot = new Plot();
        double[] epochs = history.Epochs.Select(e => (double)e.Epoch).ToArray();
        foreach (var (label, value) in series)
        {
            if (history.Epochs.All(e => value(e) is not null))
            {
                plot.Add.Scatter(epochs, history.Epochs.Select(e => (double)value(e)!.Value).ToArray()).LegendText = label;
            }
        }
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        plot.ShowLegend();
        return plot.GetImageBytes(800, 500, ImageFormat.Png);
    }

    /// <summary>
    /// Grey images [H, W] (values in <paramref name="min"/>..<paramref name="max"/>) in a grid with a caption under
    /// each; <paramref name="overlays"/>, when given, are drawn as a translucent heat map over each image.
    /// </summary>
    public static byte[] ImageGrid(IReadOnlyList<Tensor> images, IReadOnlyList<string> captions, int columns, string title,
        float min = 0f, float max = 1f, IReadOnlyList<Tensor>? overlays = null)
    {
        var plot = new Plot();
        int rows = (images.Count + columns - 1) / columns;
        const double cell = 1.0, gap = 0.35;
        for (int i = 0; i < images.Count; i++)
        {
            double left = i % columns * (cell + gap / 2);
            double bottom = -(i / columns) * (cell + gap);
            var extent = new CoordinateRect(left, left + cell, bottom, bottom + cell);
            var image = plot.Add.Heatmap(ToGrid(images[i]));
            image.Colormap = new ScottPlot.Colormaps.Grayscale();
            image.ManualRange = new ScottPlot.Range(min, max);
            image.Extent = extent;
            if (overlays is not null)
            {
                var heat = plot.Add.Heatmap(ToGrid(overlays[i]));
                heat.Colormap = new ScottPlot.Colormaps.Inferno();
                heat.Extent = extent;
                heat.Opacity = 0.55;
            }
            var caption = plot.Add.Text(captions[i], left + cell / 2, bottom - 0.04);
            caption.LabelAlignment = Alignment.UpperCenter;
            caption.LabelFontSize = 13;
        }
        plot.Title(title);
        plot.HideGrid();
        plot.Layout.Frameless();
        plot.Axes.SetLimits(-0.1, columns * (cell + gap / 2), -(rows - 1) * (cell + gap) - gap, cell + 0.1);
        return plot.GetImageBytes(170 * columns, 190 * rows + 40, ImageFormat.Png);
    }

    private static double[,] ToGrid(Tensor image)
    {
        int h = image.Shape[^2], w = image.Shape[^1];
        var grid = new double[h, w];
        var v = image.AsReadOnlySpan();
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                grid[y, x] = v[y * w + x];
            }
        }
        return grid;
    }
}
