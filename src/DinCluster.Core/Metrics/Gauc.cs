namespace DinCluster.Core.Metrics;

/// <summary>
/// Group AUC as the DIN paper measures it (eq. 6): the per-user AUC averaged with weights
/// = the user's number of impressions; users whose samples are all of one class have no
/// AUC and are left out of both sums.
/// </summary>
public static class Gauc
{
    public static GaucResult Compute(ReadOnlySpan<long> users, ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
    {
        if (users.Length != scores.Length || scores.Length != labels.Length)
            throw new ArgumentException($"{users.Length} users, {scores.Length} scores, {labels.Length} labels");
        var n = users.Length;
        var order = new int[n];
        for (var i = 0; i < n; i++) order[i] = i;
        // Group by user, scores ascending within a user: one sort, then a walk.
        var u = users.ToArray();
        var s = scores.ToArray();
        Array.Sort(order, (a, b) =>
        {
            var c = u[a].CompareTo(u[b]);
            return c != 0 ? c : s[a].CompareTo(s[b]);
        });
        double weighted = 0, weight = 0;
        int groups = 0, skipped = 0;
        var start = 0;
        while (start < n)
        {
            var end = start;
            while (end < n && u[order[end]] == u[order[start]]) end++;
            var count = end - start;
            var sorted = new float[count];
            var idx = new int[count];
            for (var k = 0; k < count; k++)
            {
                idx[k] = order[start + k];
                sorted[k] = s[idx[k]];
            }
            var auc = Auc.FromSorted(sorted, idx, labels);
            if (double.IsNaN(auc)) skipped++;
            else
            {
                weighted += count * auc;
                weight += count;
                groups++;
            }
            start = end;
        }
        return new GaucResult(weight == 0 ? double.NaN : weighted / weight, groups, skipped);
    }
}

/// <param name="Value">Impression-weighted mean of per-user AUC.</param>
/// <param name="Users">Users that entered the mean.</param>
/// <param name="SkippedUsers">Users with one class only, left out.</param>
public readonly record struct GaucResult(double Value, int Users, int SkippedUsers);
