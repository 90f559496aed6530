namespace AutoGrad.Samples;

/// <summary>A 1-32-1 tanh network learning sin(x) on [-3, 3] with full-batch gradient descent.</summary>
public static class TinyMlp
{
    public static void Run()
    {
        var generator = new Generator(7);
        var xs = Tensor.Arange(-3f, 3f, 0.1f);
        var x = new Variable(xs.Reshape(-1, 1));
        var y = new Variable(Tensor.FromArray(xs.ToArray().Select(MathF.Sin).ToArray(), xs.Length, 1));

        float bound1 = MathF.Sqrt(6f / (1 + 32));
        float bound2 = MathF.Sqrt(6f / (32 + 1));
        var w1 = new Variable(Tensor.Uniform([1, 32], -bound1, bound1, generator), requiresGrad: true);
        var b1 = new Variable(Tensor.Zeros(32), requiresGrad: true);
        var w2 = new Variable(Tensor.Uniform([32, 1], -bound2, bound2, generator), requiresGrad: true);
        var b2 = new Variable(Tensor.Zeros(1), requiresGrad: true);
        Variable[] parameters = [w1, b1, w2, b2];

        Console.WriteLine("Fitting sin(x) with a 1-32-1 tanh network");
        for (int step = 0; step <= 2000; step++)
        {
            var hidden = (x.MatMul(w1) + b1).Tanh();
            var prediction = hidden.MatMul(w2) + b2;
            var loss = (prediction - y).Pow(2).Mean();
            foreach (var p in parameters)
            {
                p.ZeroGrad();
            }
            loss.Backward();
            foreach (var p in parameters)
            {
                var value = p.Value.AsSpan();
                var grad = p.Grad!.AsReadOnlySpan();
                for (int i = 0; i < value.Length; i++)
                {
                    value[i] -= 0.05f * grad[i];
                }
            }
            if (step % 250 == 0)
            {
                Console.WriteLine($"  step {step,4}  loss {loss.Item():F5}");
            }
        }
    }
}
