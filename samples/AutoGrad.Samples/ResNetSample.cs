using System.Text.Json.Nodes;
using AutoGrad.Data;
using AutoGrad.Metrics;
using AutoGrad.Nn;
using AutoGrad.Optim;
using AutoGrad.Samples.Common;
using Spectre.Console;

namespace AutoGrad.Samples;

/// <summary>
/// A small residual CNN with batch normalization on Fashion-MNIST, written as Modules of its own: a 3x3 stem, three
/// stages of one basic block each (24, 48, 96 channels; strides 1, 2, 2, a 1x1 projection where the shape changes),
/// global average pooling and a linear head; 10% of the training images held out. The recipe, chosen on the held-out
/// split: SGD with Nesterov momentum 0.9 and weight decay 5e-4, the 1cycle schedule stepped per batch (peak --lr),
/// cross-entropy with label smoothing 0.1, every training image shifted by up to 2 pixels (a random crop of the
/// zero-padded image), 10 epochs of batches of 128: 0.9332 validation, 0.9315 test accuracy (seed 1); 8 epochs gave
/// 0.9297 / 0.9287, just short of the 0.93 target, the training accuracy on shifted images (0.933) still no higher
/// than the validation's.
/// </summary>
/// <remarks>
/// What led there (seed 1; validation / test accuracy): 16/32/64 channels with Adam and cosine annealing, no
/// augmentation, 0.9235 test after 6 epochs and 0.9239 after 15 (overfitting); with shifts and horizontal flips under
/// Adam 0.9179 after 10 epochs; this recipe at 16/32/64 for 10 epochs 0.9275 / 0.9249 (its PyTorch twin 0.9242 /
/// 0.9235), with the training accuracy on shifted images (0.933) no higher than the validation's: too little capacity
/// rather than overfitting, hence the wider stages. Next to try: more epochs or a second block per stage where the
/// time allows.
/// </remarks>
public static class ResNetSample
{
    public const int DefaultEpochs = 10;
    public const int DefaultBatchSize = 128;
    public const float DefaultLearningRate = 0.1f;
    public const float Momentum = 0.9f;
    public const float WeightDecay = 5e-4f;
    public const float LabelSmoothing = 0.1f;
    public const int ShiftPixels = 2;
    public const int Width = 24;

    public static int Run(RunSettings settings)
    {
        string folder = DataSources.FindDataFolder(settings.DataFolder);
        var (fullTrain, fullTest) = DataSources.FashionMnist(folder, settings.DataFolder is null);
        var allTrain = DataSources.Limit(fullTrain, settings.Limit);
        var test = DataSources.Limit(fullTest, settings.Limit);
        var (trainIndices, validationIndices) = Split.TrainValidation(allTrain, 0.1f, settings.Seed, stratified: true);
        var (train, validation) = (allTrain.Select(trainIndices), allTrain.Select(validationIndices));
        var model = new SmallResNet(new Generator(settings.Seed), Width);
        AnsiConsole.MarkupLine($"ResNet on Fashion-MNIST: {train.Count} training, {validation.Count} validation, {test.Count} test images; "
            + $"{model.Parameters().Sum(p => p.Value.Length):N0} parameters");
        var loader = new DataLoader(train, settings.BatchSize, shuffle: true, seed: settings.Seed);
        var optimizer = new Sgd(model.Parameters(), settings.LearningRate, Momentum, weightDecay: WeightDecay, nesterov: true);
        var schedule = new OneCycleLr(optimizer, settings.LearningRate, epochs: settings.Epochs, stepsPerEpoch: loader.BatchCount);
        var shift = new RandomShift(ShiftPixels, new Generator(settings.Seed + 1));
        var history = Trainer.Fit(model, optimizer, loader, new DataLoader(validation, 500), settings.Epochs, classes: 10, label: "ResNet",
            batchScheduler: schedule, labelSmoothing: LabelSmoothing, augment: shift.Apply);
        var result = Classification.Evaluate(model, new DataLoader(test, 500), 10);
        double trainSeconds = history.TotalSeconds;
        int steps = settings.Epochs * loader.BatchCount;

        var output = new RunOutput(settings.OutputFolder);
        output.SaveModel(model);
        output.WritePng("loss.png", Charts.LossCurve(history, "ResNet on Fashion-MNIST: loss"));
        output.WritePng("accuracy.png", Charts.AccuracyCurve(history, "ResNet on Fashion-MNIST: accuracy"));
        var hyperparameters = settings.ToJson();
        hyperparameters["optimizer"] = $"SGD, Nesterov momentum {Momentum}, weight decay {WeightDecay}";
        hyperparameters["schedule"] = "1cycle per batch (OneCycleLr, peak lr)";
        hyperparameters["label_smoothing"] = LabelSmoothing;
        hyperparameters["shift_pixels"] = ShiftPixels;
        output.WriteMetrics("resnet", hyperparameters, history, result.Accuracy, new JsonObject
        {
            ["ms_per_step"] = Math.Round(1000 * trainSeconds / steps, 2),
            ["train_seconds"] = Math.Round(trainSeconds, 2),
        });
        AnsiConsole.MarkupLine($"Test accuracy [bold]{result.Accuracy:P2}[/] on {result.Confusion.Total} images after {trainSeconds:F0} s of training "
            + $"({1000 * trainSeconds / steps:F1} ms per step); wrote metrics.json, charts and model.safetensors to [blue]{output.Folder}[/]");
        return 0;
    }
}

/// <summary>
/// Shifts every image of a batch [N, C, H, W] in place by its own random offset of up to <paramref name="padding"/>
/// pixels on each axis, zeros moving in (torchvision's RandomCrop(H, padding) on a zero background). The two offsets of
/// each image are drawn from <paramref name="generator"/> in batch order, rows first.
/// </summary>
public sealed class RandomShift(int padding, Generator generator)
{
    private readonly int _padding = padding >= 0 ? padding : throw new ArgumentOutOfRangeException(nameof(padding), padding, "RandomShift: padding must be >= 0.");
    private float[] _scratch = [];

    public void Apply(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Rank != 4)
        {
            throw new ArgumentException($"RandomShift: expected images [N, C, H, W]; got [{string.Join(", ", images.Shape.ToArray())}].", nameof(images));
        }
        int n = images.Shape[0], channels = images.Shape[1], h = images.Shape[2], w = images.Shape[3], plane = h * w;
        if (_scratch.Length != plane)
        {
            _scratch = new float[plane];
        }
        var data = images.AsSpan();
        for (int i = 0; i < n; i++)
        {
            int dy = generator.NextInt(2 * _padding + 1) - _padding, dx = generator.NextInt(2 * _padding + 1) - _padding;
            if (dy == 0 && dx == 0)
            {
                continue;
            }
            int width = w - Math.Abs(dx), from = Math.Max(dx, 0), to = Math.Max(-dx, 0);
            for (int c = 0; c < channels; c++)
            {
                var image = data.Slice((i * channels + c) * plane, plane);
                image.CopyTo(_scratch);
                image.Clear();
                // out[y, x] = in[y + dy, x + dx] over the rows and columns that stay inside
                for (int y = Math.Max(-dy, 0); width > 0 && y < Math.Min(h, h - dy); y++)
                {
                    _scratch.AsSpan((y + dy) * w + from, width).CopyTo(image.Slice(y * w + to, width));
                }
            }
        }
    }
}

/// <summary>
/// The sample's network (see <see cref="ResNetSample"/>): stages of <c>width</c>, 2 <c>width</c> and 4 <c>width</c>
/// channels (PyTorch's names: conv1, bn1, layers.0-2, fc).
/// </summary>
public sealed class SmallResNet : Module
{
    private readonly Conv2d _stem;
    private readonly BatchNorm2d _stemNorm;
    private readonly Sequential _stages;
    private readonly Linear _head;

    public SmallResNet(Generator generator, int width = 16)
    {
        _stem = RegisterModule("conv1", new Conv2d(1, width, 3, padding: 1, bias: false, generator: generator));
        _stemNorm = RegisterModule("bn1", new BatchNorm2d(width));
        _stages = RegisterModule("layers", new Sequential(new BasicBlock(width, width, 1, generator), new BasicBlock(width, 2 * width, 2, generator),
            new BasicBlock(2 * width, 4 * width, 2, generator)));
        _head = RegisterModule("fc", new Linear(4 * width, 10, generator: generator));
    }

    public override Variable Forward(Variable input)
    {
        var x = F.Relu(_stemNorm.Call(_stem.Call(input)));
        x = F.AdaptiveAvgPool2d(_stages.Call(x), 1);
        return _head.Call(F.Flatten(x));
    }

    /// <summary>relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)), the shortcut a 1x1 convolution where the shape changes.</summary>
    private sealed class BasicBlock : Module
    {
        private readonly Conv2d _conv1, _conv2;
        private readonly BatchNorm2d _norm1, _norm2;
        private readonly Sequential? _shortcut;

        public BasicBlock(int inChannels, int outChannels, int stride, Generator generator)
        {
            _conv1 = RegisterModule("conv1", new Conv2d(inChannels, outChannels, 3, stride, padding: 1, bias: false, generator: generator));
            _norm1 = RegisterModule("bn1", new BatchNorm2d(outChannels));
            _conv2 = RegisterModule("conv2", new Conv2d(outChannels, outChannels, 3, padding: 1, bias: false, generator: generator));
            _norm2 = RegisterModule("bn2", new BatchNorm2d(outChannels));
            if (stride != 1 || inChannels != outChannels)
            {
                _shortcut = RegisterModule("downsample", new Sequential(new Conv2d(inChannels, outChannels, 1, stride, bias: false, generator: generator), new BatchNorm2d(outChannels)));
            }
        }

        public override Variable Forward(Variable x)
        {
            var y = F.Relu(_norm1.Call(_conv1.Call(x)));
            y = _norm2.Call(_conv2.Call(y));
            return F.Relu(y + (_shortcut?.Call(x) ?? x));
        }
    }
}
