namespace DinCluster.Data;

/// <summary>
/// ROC AUC by the rank-sum (Mann-Whitney) statistic, tied scores sharing their mean rank.
/// Private to the generator until Core's Metrics/ lands (the lead is writing it); then use that.
/// </summary>
internal static class RankAuc
{
    /// <summary>NaN when the labels are all one class.</summary>
    public static double Compute(ReadOnlySpan<double> scores, ReadOnlySpan<byte> labels)
    {
        var n = scores.Length;
        var order = new int[n];
        for (var i = 0; i < n; i++) order[i] = i;
        var keys = scores.ToArray();
        Array.Sort(keys, order);

        double positiveRankSum = 0;
        long positives = 0;
        for (var i = 0; i < n;)
        {
            var j = i;
            while (j + 1 < n && keys[j + 1] == keys[i]) j++;
            var meanRank = (i + j) / 2.0 + 1;   // ranks are 1-based
            for (var k = i; k <= j; k++)
                if (labels[order[k]] == 1)
                {
                    positiveRankSum += meanRank;
                    positives++;
                }
            i = j + 1;
        }
        long negatives = n - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }
}
