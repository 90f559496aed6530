namespace AutoGrad.Nn;

/// <summary>Builds multilayer perceptrons.</summary>
public static class Mlp
{
    /// <summary>
    /// Linear layers between consecutive <paramref name="sizes"/> (e.g. [784, 256, 128, 10]) with a fresh activation
    /// from <paramref name="activation"/> (ReLU by default) after every layer but the last, which outputs raw logits.
    /// The initializers default to PyTorch's (see <see cref="Linear"/>).
    /// </summary>
    public static Sequential Create(int[] sizes, Func<Module>? activation = null, Generator? generator = null,
        Initializer? weightInit = null, Initializer? biasInit = null)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Length < 2)
        {
            throw new ArgumentException($"Mlp.Create: needs at least an input and an output size; got [{string.Join(", ", sizes)}].", nameof(sizes));
        }
        activation ??= () => new ReLU();
        var model = new Sequential();
        for (int i = 0; i + 1 < sizes.Length; i++)
        {
            model.Add(new Linear(sizes[i], sizes[i + 1], weightInit: weightInit, biasInit: biasInit, generator: generator));
            if (i + 2 < sizes.Length)
            {
                model.Add(activation());
            }
        }
        return model;
    }
}
