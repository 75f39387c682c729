namespace DinCluster.Core.Metrics;

/// <summary>Area under the ROC curve, exact, with ties counted half (Mann-Whitney U on average ranks).</summary>
public static class Auc
{
    /// <summary>AUC of <paramref name="scores"/> against 0/1 <paramref name="labels"/>; NaN when one class is absent.</summary>
    public static double Compute(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
    {
        if (scores.Length != labels.Length)
            throw new ArgumentException($"{scores.Length} scores for {labels.Length} labels");
        var order = new int[scores.Length];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        var keys = scores.ToArray();
        Array.Sort(keys, order);
        return FromSorted(keys, order, labels);
    }

    /// <summary>AUC given scores sorted ascending and, for each, the index of its label.</summary>
    internal static double FromSorted(float[] sortedScores, int[] order, ReadOnlySpan<float> labels)
    {
        double positives = 0, rankSum = 0;
        var n = sortedScores.Length;
        var i = 0;
        while (i < n)
        {
            var j = i;
            while (j + 1 < n && sortedScores[j + 1] == sortedScores[i]) j++;
            // Ranks i+1..j+1 share their average.
            var avgRank = (i + j + 2) / 2.0;
            for (var k = i; k <= j; k++)
            {
                if (labels[order[k]] > 0.5f)
                {
                    positives++;
                    rankSum += avgRank;
                }
            }
            i = j + 1;
        }
        var negatives = n - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }
}
