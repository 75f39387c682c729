using DinCluster.Core.Metrics;
using Xunit.Abstractions;

namespace DinCluster.Core.Tests.Metrics;

public sealed class MetricsTests(ITestOutputHelper output)
{
    [Fact]
    public void Auc_matches_known_value_when_scores_are_distinct()
    {
        // The classic 4-sample example: 3 of the 4 positive/negative pairs are ordered right.
        var auc = Auc.Compute([0.1f, 0.4f, 0.35f, 0.8f], [0, 0, 1, 1]);
        Assert.Equal(0.75, auc, 12);
    }

    [Fact]
    public void Auc_counts_ties_as_half_when_scores_are_equal()
    {
        Assert.Equal(0.5, Auc.Compute([0.3f, 0.3f, 0.3f, 0.3f], [0, 1, 0, 1]), 12);
        // One tied positive/negative pair out of 4 pairs: (3 + 0.5) / 4.
        Assert.Equal(0.875, Auc.Compute([0.1f, 0.5f, 0.5f, 0.9f], [0, 0, 1, 1]), 12);
    }

    [Fact]
    public void Auc_is_nan_when_one_class_is_missing()
    {
        Assert.True(double.IsNaN(Auc.Compute([0.1f, 0.2f], [1, 1])));
    }

    [Fact]
    public void Auc_equals_pairwise_count_when_data_is_random()
    {
        const int seed = 1234;
        output.WriteLine($"seed {seed}");
        var rng = new Random(seed);
        var n = 500;
        var scores = new float[n];
        var labels = new float[n];
        for (var i = 0; i < n; i++)
        {
            scores[i] = rng.Next(50) / 50f; // coarse, so ties happen
            labels[i] = rng.NextDouble() < 0.3 ? 1 : 0;
        }
        double good = 0, pairs = 0;
        for (var i = 0; i < n; i++)
        for (var j = 0; j < n; j++)
        {
            if (labels[i] != 1 || labels[j] != 0) continue;
            pairs++;
            if (scores[i] > scores[j]) good += 1;
            else if (scores[i] == scores[j]) good += 0.5;
        }
        Assert.Equal(good / pairs, Auc.Compute(scores, labels), 10);
    }

    [Fact]
    public void Gauc_weights_users_by_impressions_and_skips_single_class_users()
    {
        long[] users = [1, 1, 1, 1, 2, 2, 3, 3, 3];
        float[] scores = [0.1f, 0.4f, 0.35f, 0.8f, 0.9f, 0.1f, 0.5f, 0.6f, 0.7f];
        float[] labels = [0, 0, 1, 1, 1, 0, 1, 1, 1];
        var g = Gauc.Compute(users, scores, labels);
        // user 1: AUC 0.75 over 4 impressions; user 2: AUC 1 over 2; user 3 all positive: skipped.
        Assert.Equal((4 * 0.75 + 2 * 1.0) / 6, g.Value, 12);
        Assert.Equal(2, g.Users);
        Assert.Equal(1, g.SkippedUsers);
    }

    [Fact]
    public void Gauc_does_not_depend_on_sample_order()
    {
        const int seed = 99;
        output.WriteLine($"seed {seed}");
        var rng = new Random(seed);
        var n = 300;
        var users = new long[n];
        var scores = new float[n];
        var labels = new float[n];
        for (var i = 0; i < n; i++)
        {
            users[i] = rng.Next(20);
            scores[i] = (float)rng.NextDouble();
            labels[i] = rng.Next(2);
        }
        var a = Gauc.Compute(users, scores, labels).Value;
        var perm = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
        var b = Gauc.Compute(perm.Select(i => users[i]).ToArray(), perm.Select(i => scores[i]).ToArray(), perm.Select(i => labels[i]).ToArray()).Value;
        Assert.Equal(a, b, 12);
    }

    [Fact]
    public void LogLoss_matches_formula_and_clips_certain_mistakes()
    {
        var ll = LogLoss.Compute([0.9f, 0.2f], [1, 0]);
        Assert.Equal(-(Math.Log(0.9f) + Math.Log(1 - 0.2f)) / 2, ll, 6);
        var clipped = LogLoss.Compute([0f], [1]);
        Assert.Equal(-Math.Log(LogLoss.Epsilon), clipped, 6);
    }

    [Fact]
    public void RelaImpr_is_relative_gain_over_half()
    {
        Assert.Equal(10.0, RelaImpr.Percent(0.72, 0.70), 9);
        Assert.Equal(0.0, RelaImpr.Percent(0.7, 0.7), 9);
    }
}
