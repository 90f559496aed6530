using System.CommandLine;
using AutoGrad.Samples;
using AutoGrad.Samples.Common;
using Spectre.Console;

return Cli.Run(args);

namespace AutoGrad.Samples
{
    /// <summary>
    /// The command line: one subcommand per sample; with none, the main job (LeNet on the shipped MNIST digits, then
    /// the class visualization of that model).
    /// </summary>
    public static class Cli
    {
        public static int Run(string[] args) => Build().Parse(args).Invoke();

        public static RootCommand Build()
        {
            var root = new RootCommand("AutoGrad samples. Without a subcommand: LeNet-5 on the shipped MNIST digits, then class visualization.");
            var rootOptions = new CommonOptions(root, "runs", LeNetSample.DefaultEpochs, LeNetSample.DefaultBatchSize, LeNetSample.DefaultLearningRate);
            root.SetAction(result => Guard(() =>
            {
                var settings = rootOptions.Read(result);
                string outRoot = settings.OutputFolder;
                int code = LeNetSample.Run(settings with { OutputFolder = Path.Combine(outRoot, "lenet") }, "mnist");
                return code != 0
                    ? code
                    : VisualizeSample.Run(settings with { OutputFolder = Path.Combine(outRoot, "visualize"), LearningRate = 0.05f }, "mnist",
                        Path.Combine(outRoot, "lenet", "model.safetensors"), saliency: false);
            }));

            var iris = new Command("iris", "One-hidden-layer MLP on Iris: a sweep of learning rates and hidden sizes.");
            var irisOptions = new CommonOptions(iris, "runs/iris", epochs: 100, batchSize: 16, learningRate: null);
            iris.SetAction(result => Guard(() => IrisSample.Run(irisOptions.Read(result), irisOptions.ExplicitLearningRate(result))));
            root.Subcommands.Add(iris);

            var fashion = new Command("fashion-mlp", "784-256-128-10 MLP on Fashion-MNIST (48k train / 12k validation / 10k test).");
            var fashionOptions = new CommonOptions(fashion, "runs/fashion-mlp", epochs: 10, batchSize: 128, learningRate: 0.002f);
            var sweep = new Option<bool>("--sweep") { Description = "Also train the hidden-size variants and compare them in one table." };
            fashion.Options.Add(sweep);
            fashion.SetAction(result => Guard(() => FashionMlpSample.Run(fashionOptions.Read(result), result.GetValue(sweep))));
            root.Subcommands.Add(fashion);

            var lenet = new Command("lenet", "LeNet-5 on MNIST (shipped digits) or Fashion-MNIST.");
            var lenetOptions = new CommonOptions(lenet, "runs/lenet", LeNetSample.DefaultEpochs, LeNetSample.DefaultBatchSize, LeNetSample.DefaultLearningRate);
            var lenetData = DataOption();
            lenet.Options.Add(lenetData);
            lenet.SetAction(result => Guard(() => LeNetSample.Run(lenetOptions.Read(result), result.GetValue(lenetData)!)));
            root.Subcommands.Add(lenet);

            var visualize = new Command("visualize",
                "Images that maximize each class of a trained LeNet (trains one if the checkpoint is missing; --epochs and --batch-size are for that training, --lr is the gradient-ascent step).");
            var visualizeOptions = new CommonOptions(visualize, VisualizeSample.DefaultOutput, LeNetSample.DefaultEpochs, LeNetSample.DefaultBatchSize, 0.05f);
            var visualizeData = DataOption();
            var checkpoint = new Option<string?>("--checkpoint") { Description = "The model to load (default: <out>/../lenet/model.safetensors)." };
            var saliency = new Option<bool>("--saliency") { Description = "Draw saliency maps over real test images instead (default --out runs/saliency)." };
            visualize.Options.Add(visualizeData);
            visualize.Options.Add(checkpoint);
            visualize.Options.Add(saliency);
            visualize.SetAction(result => Guard(() => VisualizeSample.Run(visualizeOptions.Read(result), result.GetValue(visualizeData)!,
                result.GetValue(checkpoint), result.GetValue(saliency))));
            root.Subcommands.Add(visualize);

            var pinn = new Command("pinn",
                "A physics-informed MLP solving u'' = -pi^2 sin(pi x), u(0) = u(1) = 0 (second derivatives by Autograd.Grad with createGraph); --epochs is the number of full-batch steps, --batch-size the collocation points.");
            var pinnOptions = new CommonOptions(pinn, "runs/pinn", PinnSample.DefaultSteps, PinnSample.DefaultPoints, PinnSample.DefaultLearningRate);
            pinn.SetAction(result => Guard(() => PinnSample.Run(pinnOptions.Read(result))));
            root.Subcommands.Add(pinn);

            var charlm = new Command("charlm",
                "A character-level transformer (4 layers, 4 heads, width 128, context 64) on the State of the Union addresses of 1790-1860; --epochs is the number of training steps, --batch-size the sequences per step.");
            var charlmOptions = new CommonOptions(charlm, "runs/charlm", CharLmSample.DefaultSteps, CharLmSample.DefaultBatch, CharLmSample.DefaultLearningRate);
            charlm.SetAction(result => Guard(() => CharLmSample.Run(charlmOptions.Read(result))));
            root.Subcommands.Add(charlm);

            var resnet = new Command("resnet", "A small residual CNN with batch normalization on Fashion-MNIST (bash data/get-fashion-mnist.sh).");
            var resnetOptions = new CommonOptions(resnet, "runs/resnet", ResNetSample.DefaultEpochs, ResNetSample.DefaultBatchSize, ResNetSample.DefaultLearningRate);
            resnet.SetAction(result => Guard(() => ResNetSample.Run(resnetOptions.Read(result))));
            root.Subcommands.Add(resnet);
            return root;
        }

        private static Option<string> DataOption()
        {
            var option = new Option<string>("--data") { Description = "mnist (the shipped digits) or fashion.", DefaultValueFactory = _ => "mnist" };
            option.AcceptOnlyFromAmong("mnist", "fashion");
            return option;
        }

        /// <summary>Missing or corrupt data ends the command with a one-line message (exit code 1), not a stack trace.</summary>
        private static int Guard(Func<int> action)
        {
            try
            {
                return action();
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]{e.Message}[/]");
                return 1;
            }
        }
    }

    /// <summary>The options every command takes, with that command's defaults and validation.</summary>
    public sealed class CommonOptions
    {
        private readonly Option<int> _epochs, _batchSize;
        private readonly Option<float?> _learningRate;
        private readonly Option<long> _seed;
        private readonly Option<string> _out;
        private readonly Option<string?> _dataDir;
        private readonly Option<int?> _limit;
        private readonly float? _defaultLearningRate;

        public CommonOptions(Command command, string defaultOut, int epochs, int batchSize, float? learningRate)
        {
            _defaultLearningRate = learningRate;
            _epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => epochs };
            _batchSize = new Option<int>("--batch-size") { Description = "Samples per mini-batch.", DefaultValueFactory = _ => batchSize };
            _learningRate = new Option<float?>("--lr") { Description = learningRate is null ? "Learning rate (default: sweep several)." : $"Learning rate (default {learningRate})." };
            _seed = new Option<long>("--seed") { Description = "Seed for initialization, shuffling and splits.", DefaultValueFactory = _ => 1 };
            _out = new Option<string>("--out") { Description = "Output folder for metrics.json, charts and the checkpoint.", DefaultValueFactory = _ => defaultOut };
            _dataDir = new Option<string?>("--data-dir") { Description = "The data folder (default: the repository's data/)." };
            _limit = new Option<int?>("--limit") { Description = "Use only the first N training and test samples (quick runs)." };
            Positive(_epochs, "--epochs");
            Positive(_batchSize, "--batch-size");
            _learningRate.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<float?>() is { } v && !(v > 0f && float.IsFinite(v)))
                {
                    r.AddError($"--lr must be a positive number; got {v}.");
                }
            });
            _limit.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int?>() is { } v && v < 1)
                {
                    r.AddError($"--limit must be at least 1; got {v}.");
                }
            });
            foreach (var option in new Option[] { _epochs, _batchSize, _learningRate, _seed, _out, _dataDir, _limit })
            {
                command.Options.Add(option);
            }
        }

        private static void Positive(Option<int> option, string name) => option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError($"{name} must be at least 1; got {r.GetValueOrDefault<int>()}.");
            }
        });

        public RunSettings Read(ParseResult result) => new(
            result.GetValue(_epochs), result.GetValue(_batchSize), result.GetValue(_learningRate) ?? _defaultLearningRate ?? 0.01f,
            result.GetValue(_seed), result.GetValue(_out)!, result.GetValue(_dataDir), result.GetValue(_limit));

        public float? ExplicitLearningRate(ParseResult result) => result.GetValue(_learningRate);
    }
}
