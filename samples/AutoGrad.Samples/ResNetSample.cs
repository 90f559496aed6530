using AutoGrad.Data;
using AutoGrad.Metrics;
using AutoGrad.Nn;
using AutoGrad.Optim;
using AutoGrad.Samples.Common;
using Spectre.Console;

namespace AutoGrad.Samples;

/// <summary>
/// A small residual CNN with batch normalization on Fashion-MNIST, written as Modules of its own: a 3x3 stem, three
/// stages of one basic block each (16, 32, 64 channels; strides 1, 2, 2, a 1x1 projection where the shape changes),
/// global average pooling and a linear head. Adam with cosine annealing; 10% of the training images held out.
/// </summary>
public static class ResNetSample
{
    public const int DefaultEpochs = 6;
    public const int DefaultBatchSize = 64;
    public const float DefaultLearningRate = 2e-3f;

    public static int Run(RunSettings settings)
    {
        string folder = DataSources.FindDataFolder(settings.DataFolder);
        var (fullTrain, fullTest) = DataSources.FashionMnist(folder, settings.DataFolder is null);
        var allTrain = DataSources.Limit(fullTrain, settings.Limit);
        var test = DataSources.Limit(fullTest, settings.Limit);
        var (trainIndices, validationIndices) = Split.TrainValidation(allTrain, 0.1f, settings.Seed, stratified: true);
        var (train, validation) = (allTrain.Select(trainIndices), allTrain.Select(validationIndices));
        var model = new SmallResNet(new Generator(settings.Seed));
        AnsiConsole.MarkupLine($"ResNet on Fashion-MNIST: {train.Count} training, {validation.Count} validation, {test.Count} test images; "
            + $"{model.Parameters().Sum(p => p.Value.Length):N0} parameters");
        var optimizer = new Adam(model.Parameters(), settings.LearningRate);
        var schedule = new CosineAnnealingLr(optimizer, settings.Epochs);
        var history = Trainer.Fit(model, optimizer, new DataLoader(train, settings.BatchSize, shuffle: true, seed: settings.Seed),
            new DataLoader(validation, 500), settings.Epochs, classes: 10, label: "ResNet", schedule);
        var result = Classification.Evaluate(model, new DataLoader(test, 500), 10);
        double trainSeconds = history.Epochs.Sum(r => r.Seconds);

        var output = new RunOutput(settings.OutputFolder);
        output.SaveModel(model);
        output.WritePng("loss.png", Charts.LossCurve(history, "ResNet on Fashion-MNIST: loss"));
        output.WritePng("accuracy.png", Charts.AccuracyCurve(history, "ResNet on Fashion-MNIST: accuracy"));
        var hyperparameters = settings.ToJson();
        hyperparameters["optimizer"] = "Adam";
        hyperparameters["schedule"] = "cosine annealing to 0";
        output.WriteMetrics("resnet", hyperparameters, history, result.Accuracy);
        AnsiConsole.MarkupLine($"Test accuracy [bold]{result.Accuracy:P2}[/] on {result.Confusion.Total} images after {trainSeconds:F0} s of training; wrote metrics.json, charts and model.safetensors to [blue]{output.Folder}[/]");
        return 0;
    }
}

/// <summary>The sample's network (see <see cref="ResNetSample"/>).</summary>
public sealed class SmallResNet : Module
{
    private readonly Conv2d _stem;
    private readonly BatchNorm2d _stemNorm;
    private readonly Sequential _stages;
    private readonly Linear _head;

    public SmallResNet(Generator generator)
    {
        _stem = RegisterModule("conv1", new Conv2d(1, 16, 3, padding: 1, bias: false, generator: generator));
        _stemNorm = RegisterModule("bn1", new BatchNorm2d(16));
        _stages = RegisterModule("layers", new Sequential(new BasicBlock(16, 16, 1, generator), new BasicBlock(16, 32, 2, generator), new BasicBlock(32, 64, 2, generator)));
        _head = RegisterModule("fc", new Linear(64, 10, generator: generator));
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
