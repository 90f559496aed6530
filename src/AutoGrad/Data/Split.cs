namespace AutoGrad.Data;

/// <summary>Seeded random splits of a data set into training and validation indices.</summary>
public static class Split
{
    /// <summary>
    /// Splits <paramref name="dataset"/>: round(count * fraction) samples go to validation, drawn at random from
    /// <paramref name="seed"/>. With <paramref name="stratified"/>, each class contributes its own share, so class
    /// proportions are kept in both parts. Each part is returned in ascending index order.
    /// </summary>
    public static (int[] Train, int[] Validation) TrainValidation(Dataset dataset, float validationFraction, long seed, bool stratified = false)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (!(validationFraction >= 0f && validationFraction <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "Split: the validation fraction must be in [0, 1].");
        }
        var generator = new Generator(seed);
        var validation = new List<int>();
        IEnumerable<int[]> strata = stratified
            ? Enumerable.Range(0, dataset.Count).GroupBy(dataset.Label).OrderBy(g => g.Key).Select(g => g.ToArray())
            : [Enumerable.Range(0, dataset.Count).ToArray()];
        foreach (var stratum in strata)
        {
            generator.Shuffle(stratum.AsSpan());
            int take = (int)Math.Round(stratum.Length * (double)validationFraction, MidpointRounding.AwayFromZero);
            validation.AddRange(stratum.Take(take));
        }
        var isValidation = new bool[dataset.Count];
        foreach (int i in validation)
        {
            isValidation[i] = true;
        }
        var train = Enumerable.Range(0, dataset.Count).Where(i => !isValidation[i]).ToArray();
        return (train, Enumerable.Range(0, dataset.Count).Where(i => isValidation[i]).ToArray());
    }

    /// <summary>The two parts as <see cref="Subset"/> views of <paramref name="dataset"/>.</summary>
    public static (Subset Train, Subset Validation) RandomSplit(Dataset dataset, float validationFraction, long seed, bool stratified = false)
    {
        var (train, validation) = TrainValidation(dataset, validationFraction, seed, stratified);
        return (new Subset(dataset, train), new Subset(dataset, validation));
    }
}
