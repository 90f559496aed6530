using System.Numerics;

namespace AutoGrad;

/// <summary>
/// A seedable pseudo-random generator (xoshiro256**, seeded through SplitMix64), the source of every random
/// tensor, initializer and shuffle. Same seed, same numbers, on every machine and thread count.
/// </summary>
public sealed class Generator
{
    [ThreadStatic]
    private static Generator? t_default;
    private static long s_defaultSeed = 0x5EED;

    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Creates a generator whose sequence is fixed by <paramref name="seed"/>.</summary>
    public Generator(long seed)
    {
        Seed = seed;
        ulong x = (ulong)seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>The seed this generator started from.</summary>
    public long Seed { get; }

    /// <summary>The calling thread's default generator, used when an API is given none (like torch's global generator).</summary>
    public static Generator Default => t_default ??= new Generator(Interlocked.Read(ref s_defaultSeed));

    /// <summary>Reseeds the default generator (like <c>torch.manual_seed</c>); threads created later start from this seed too.</summary>
    public static void ManualSeed(long seed)
    {
        Interlocked.Exchange(ref s_defaultSeed, seed);
        t_default = new Generator(seed);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A float uniform in [0, 1), with 24 random bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>A double uniform in [0, 1), with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>An integer uniform in [0, <paramref name="maxExclusive"/>), without modulo bias.</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong bound = (ulong)maxExclusive;
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong r = NextUInt64();
            if (r >= threshold)
            {
                return (int)(r % bound);
            }
        }
    }

    /// <summary>Fills <paramref name="destination"/> with values uniform in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public void FillUniform(Span<float> destination, float low = 0f, float high = 1f)
    {
        float range = high - low;
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = low + range * NextFloat();
        }
    }

    /// <summary>Fills <paramref name="destination"/> with normal values (Box-Muller in double precision).</summary>
    public void FillNormal(Span<float> destination, float mean = 0f, float std = 1f)
    {
        for (int i = 0; i < destination.Length; i += 2)
        {
            double u1 = 1.0 - NextDouble(); // (0, 1]: log(u1) is finite
            double u2 = NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            destination[i] = (float)(mean + std * r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < destination.Length)
            {
                destination[i + 1] = (float)(mean + std * r * Math.Sin(2 * Math.PI * u2));
            }
        }
    }

    /// <summary>Shuffles <paramref name="values"/> in place (Fisher-Yates).</summary>
    public void Shuffle<T>(Span<T> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>The generator's full state, to save in a checkpoint.</summary>
    public ulong[] GetState() => [_s0, _s1, _s2, _s3];

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    public void SetState(ReadOnlySpan<ulong> state)
    {
        if (state.Length != 4 || (state[0] | state[1] | state[2] | state[3]) == 0)
        {
            throw new ArgumentException($"Generator.SetState: expected 4 words, not all zero; got {state.Length}.", nameof(state));
        }
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
