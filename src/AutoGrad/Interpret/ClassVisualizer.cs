using System.Numerics.Tensors;
using AutoGrad.Nn;

namespace AutoGrad.Interpret;

/// <summary>Settings of <see cref="ClassVisualizer"/>; the defaults suit 28x28 grey images in [0, 1].</summary>
public sealed record ClassVisualizationOptions
{
    /// <summary>Gradient-ascent steps before the target probability is checked.</summary>
    public int Steps { get; init; } = 150;

    /// <summary>
    /// Extra steps allowed while the image is still below <see cref="TargetProbability"/>; they ascend the class's
    /// log-probability instead of its logit, which also lowers the competing classes.
    /// </summary>
    public int MaxExtraSteps { get; init; } = 300;

    /// <summary>Step size on the gradient normalized to unit mean absolute value.</summary>
    public float LearningRate { get; init; } = 0.05f;

    /// <summary>Multiplicative shrink per step toward zero (L2 decay), which keeps the image from saturating.</summary>
    public float L2Decay { get; init; } = 0.002f;

    /// <summary>The largest random shift (pixels, both axes) applied before each gradient: robust, less noisy images.</summary>
    public int Jitter { get; init; } = 2;

    /// <summary>Blur with a 3x3 Gaussian every this many steps (0: never), which suppresses high-frequency noise.</summary>
    public int BlurEvery { get; init; } = 4;

    /// <summary>The Gaussian's standard deviation in pixels.</summary>
    public float BlurSigma { get; init; } = 0.6f;

    /// <summary>The valid pixel range; the image is clamped to it after each step.</summary>
    public float MinValue { get; init; }

    /// <summary>The valid pixel range's upper end.</summary>
    public float MaxValue { get; init; } = 1f;

    /// <summary>The softmax probability of the class that ends the extra steps early.</summary>
    public float TargetProbability { get; init; } = 0.99f;
}

/// <summary>An image that maximizes one class's score, with the model's softmax probability of that class for it.</summary>
public sealed record ClassVisualization(int Class, Tensor Image, float Probability, int Steps);

/// <summary>
/// Class visualization by gradient ascent on the input (Simonyan et al., 2014; Yosinski et al., 2015): starting from
/// low-amplitude noise, the image follows the gradient of the class logit, with L2 decay, random jitter and periodic
/// Gaussian blur as regularizers; if the model then gives the class less than the target probability, further steps
/// ascend the class's log-probability until it does (or the step budget runs out).
/// </summary>
public static class ClassVisualizer
{
    /// <summary>Produces one image of <paramref name="sampleShape"/> ([C, H, W]) for class <paramref name="classIndex"/>.</summary>
    public static ClassVisualization Visualize(Module model, int[] sampleShape, int classIndex, ClassVisualizationOptions? options = null,
        Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampleShape);
        if (sampleShape.Length != 3 || sampleShape.Any(d => d <= 0))
        {
            throw new ArgumentException($"ClassVisualizer: the sample shape must be [C, H, W]; got {Shapes.Format(sampleShape)}.");
        }
        options ??= new ClassVisualizationOptions();
        generator ??= Generator.Default;
        int c = sampleShape[0], h = sampleShape[1], w = sampleShape[2];
        var image = Tensor.Zeros(1, c, h, w);
        generator.FillNormal(image.AsSpan(), 0.1f * options.MaxValue, 0.05f * options.MaxValue);
        Clamp(image, options);
        var shifted = Tensor.Zeros(1, c, h, w);
        var blur = GaussianKernel(options.BlurSigma);

        int step = 0;
        float probability = 0f;
        while (step < options.Steps + options.MaxExtraSteps)
        {
            int dy = generator.NextInt(2 * options.Jitter + 1) - options.Jitter;
            int dx = generator.NextInt(2 * options.Jitter + 1) - options.Jitter;
            Roll(image, shifted, dy, dx);
            var score = step < options.Steps ? ClassScore.Logit : ClassScore.LogProbability;
            var (gradient, _) = InputGradients.OfClassScores(model, shifted, [classIndex], score);
            Roll(gradient, shifted, -dy, -dx); // the gradient with respect to the unshifted image
            var g = shifted.AsSpan();
            float scale = options.LearningRate / (TensorPrimitives.SumOfMagnitudes(g) / g.Length + 1e-12f);
            var x = image.AsSpan();
            TensorPrimitives.MultiplyAdd(g, scale, x, x);
            TensorPrimitives.Multiply(x, 1f - options.L2Decay, x);
            step++;
            if (options.BlurEvery > 0 && step % options.BlurEvery == 0)
            {
                Blur(image, blur);
            }
            Clamp(image, options);
            if (step >= options.Steps)
            {
                probability = ProbabilityOf(model, image, classIndex);
                if (probability >= options.TargetProbability)
                {
                    break;
                }
            }
        }
        return new ClassVisualization(classIndex, image.Reshape(c, h, w), probability, step);
    }

    /// <summary>The model's softmax probability of <paramref name="classIndex"/> for a batch of one image.</summary>
    public static float ProbabilityOf(Module model, Tensor image, int classIndex)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var evaluation = model.EvalMode();
        using var noGrad = GradMode.NoGrad();
        return F.Softmax(model.Call(image), 1).Value[0, classIndex];
    }

    private static void Clamp(Tensor image, ClassVisualizationOptions options)
    {
        var x = image.AsSpan();
        TensorPrimitives.Clamp(x, options.MinValue, options.MaxValue, x);
    }

    // destination = source shifted by (dy, dx) with wrap-around, per channel plane.
    private static void Roll(Tensor source, Tensor destination, int dy, int dx)
    {
        int h = source.Shape[^2], w = source.Shape[^1], planes = source.Length / (h * w);
        var s = source.AsReadOnlySpan();
        var d = destination.AsSpan();
        for (int p = 0; p < planes; p++)
        {
            for (int y = 0; y < h; y++)
            {
                int ty = ((y + dy) % h + h) % h;
                for (int x = 0; x < w; x++)
                {
                    d[p * h * w + ty * w + ((x + dx) % w + w) % w] = s[p * h * w + y * w + x];
                }
            }
        }
    }

    private static Tensor GaussianKernel(float sigma)
    {
        var k = new float[9];
        float sum = 0f;
        for (int y = -1; y <= 1; y++)
        {
            for (int x = -1; x <= 1; x++)
            {
                sum += k[(y + 1) * 3 + x + 1] = MathF.Exp(-(x * x + y * y) / (2 * sigma * sigma));
            }
        }
        TensorPrimitives.Divide(k, sum, k);
        return Tensor.FromArray(k, 1, 1, 3, 3);
    }

    // Each channel blurred on its own: the planes become a batch of one-channel images for one convolution.
    private static void Blur(Tensor image, Tensor kernel)
    {
        using var _ = GradMode.NoGrad();
        int h = image.Shape[^2], w = image.Shape[^1];
        var planes = new Variable(image.Reshape(-1, 1, h, w));
        var blurred = F.Conv2d(planes, new Variable(kernel), padding: 1);
        blurred.Value.AsReadOnlySpan().CopyTo(image.AsSpan());
    }
}
