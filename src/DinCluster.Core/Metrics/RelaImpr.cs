namespace DinCluster.Core.Metrics;

/// <summary>
/// Relative improvement over a base model (DIN paper eq. 7):
/// RelaImpr = ((AUC(model) - 0.5) / (AUC(base) - 0.5) - 1) x 100%.
/// </summary>
public static class RelaImpr
{
    public static double Percent(double modelAuc, double baseAuc) =>
        ((modelAuc - 0.5) / (baseAuc - 0.5) - 1) * 100;
}
