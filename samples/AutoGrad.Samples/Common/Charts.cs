using AutoGrad.Metrics;
using ScottPlot;

namespace AutoGrad.Samples.Common;

/// <summary>PNG charts drawn with ScottPlot: training curves and labelled image grids.</summary>
public static class Charts
{
    /// <summary>Training loss per epoch (and validation loss when measured).</summary>
    public static byte[] LossCurve(History history, string title)
    {
        var plot = new Plot();
        double[] epochs = history.Epochs.Select(e => (double)e.Epoch).ToArray();
        var train = plot.Add.Scatter(epochs, history.Epochs.Select(e => (double)e.TrainLoss).ToArray());
        train.LegendText = "training loss";
        if (history.Epochs.All(e => e.ValidationLoss is not null))
        {
            var validation = plot.Add.Scatter(epochs, history.Epochs.Select(e => (double)e.ValidationLoss!.Value).ToArray());
            validation.LegendText = "validation loss";
        }
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("cross-entropy");
        plot.ShowLegend();
        return plot.GetImageBytes(800, 500, ImageFormat.Png);
    }

    /// <summary>Validation (and training) accuracy per epoch.</summary>
    public static byte[] AccuracyCurve(History history, string title)
    {
        var plot = new Plot();
        double[] epochs = history.Epochs.Select(e => (double)e.Epoch).ToArray();
        var validation = plot.Add.Scatter(epochs, history.Epochs.Select(e => (double)(e.ValidationAccuracy ?? 0f)).ToArray());
        validation.LegendText = "validation accuracy";
        if (history.Epochs.All(e => e.TrainAccuracy is not null))
        {
            var train = plot.Add.Scatter(epochs, history.Epochs.Select(e => (double)e.TrainAccuracy!.Value).ToArray());
            train.LegendText = "training accuracy";
        }
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("accuracy");
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
