namespace DinCluster.Core.Metrics;

/// <summary>Test metrics of one evaluation pass.</summary>
public sealed record EvaluationResult(double Auc, double Gauc, double LogLoss, long Samples, int GaucUsers)
{
    /// <summary>Scores every collected prediction. Inputs are aligned per sample.</summary>
    public static EvaluationResult Compute(ReadOnlySpan<long> users, ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
    {
        var g = Metrics.Gauc.Compute(users, scores, labels);
        return new EvaluationResult(
            Metrics.Auc.Compute(scores, labels), g.Value, Metrics.LogLoss.Compute(scores, labels), scores.Length, g.Users);
    }
}
