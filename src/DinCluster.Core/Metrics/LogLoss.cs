namespace DinCluster.Core.Metrics;

/// <summary>Mean binary cross-entropy of probabilities, clipped to [1e-7, 1 - 1e-7] so one confident miss stays finite.</summary>
public static class LogLoss
{
    public const double Epsilon = 1e-7;

    public static double Compute(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels)
    {
        if (probabilities.Length != labels.Length)
            throw new ArgumentException($"{probabilities.Length} probabilities for {labels.Length} labels");
        if (probabilities.Length == 0) return double.NaN;
        double sum = 0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var p = Math.Clamp(probabilities[i], Epsilon, 1 - Epsilon);
            sum -= labels[i] > 0.5f ? Math.Log(p) : Math.Log(1 - p);
        }
        return sum / probabilities.Length;
    }
}
