namespace AutoGrad.Samples;

/// <summary>Fits y = 3x + 2 by plain gradient descent on a Variable graph.</summary>
public static class LinearFit
{
    public static void Run()
    {
        var generator = new Generator(42);
        var x = new Variable(Tensor.Uniform([64, 1], -1f, 1f, generator));
        var noise = Tensor.Normal([64, 1], 0f, 0.05f, generator);
        var y = new Variable(Tensor.FromArray(x.Value.ToArray().Select((v, i) => 3f * v + 2f + noise.AsReadOnlySpan()[i]).ToArray(), 64, 1));

        var w = new Variable(Tensor.Zeros(1, 1), requiresGrad: true, name: "w");
        var b = new Variable(Tensor.Zeros(1), requiresGrad: true, name: "b");
        const float learningRate = 0.5f;

        Console.WriteLine("Fitting y = 3x + 2 with gradient descent");
        for (int step = 0; step <= 60; step++)
        {
            var prediction = x.MatMul(w) + b;
            var loss = ((prediction - y) * (prediction - y)).Mean();
            w.ZeroGrad();
            b.ZeroGrad();
            loss.Backward();
            using (GradMode.NoGrad())
            {
                Step(w, learningRate);
                Step(b, learningRate);
            }
            if (step % 10 == 0)
            {
                Console.WriteLine($"  step {step,3}  loss {loss.Item():F5}  w {w.Value[0, 0]:F3}  b {b.Value[0]:F3}");
            }
        }
    }

    private static void Step(Variable parameter, float learningRate)
    {
        var value = parameter.Value.AsSpan();
        var grad = parameter.Grad!.AsReadOnlySpan();
        for (int i = 0; i < value.Length; i++)
        {
            value[i] -= learningRate * grad[i];
        }
    }
}
