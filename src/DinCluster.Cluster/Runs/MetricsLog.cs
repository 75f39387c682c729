using System.Globalization;

namespace DinCluster.Cluster.Runs;

/// <summary>
/// RUN/metrics.csv: one row per logging window of training (train loss over the window) and
/// one per epoch end (test metrics filled). Flushed per row so a crashed run keeps its curve.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    public const string Header = "epoch,step,samples,elapsed_s,train_loss,samples_per_s,test_auc,test_gauc,test_logloss";
    private readonly StreamWriter _writer;
    public List<MetricsRow> Rows { get; } = [];

    public MetricsLog(string path, bool append = false)
    {
        var exists = append && File.Exists(path);
        _writer = new StreamWriter(path, append: exists) { AutoFlush = true };
        if (!exists) _writer.WriteLine(Header);
    }

    public void Add(MetricsRow row)
    {
        Rows.Add(row);
        static string F(double? v) => v is { } x ? x.ToString("G6", CultureInfo.InvariantCulture) : "";
        _writer.WriteLine(string.Join(',',
            row.Epoch.ToString(CultureInfo.InvariantCulture), row.Step.ToString(CultureInfo.InvariantCulture),
            row.Samples.ToString(CultureInfo.InvariantCulture), F(row.ElapsedSeconds), F(row.TrainLoss),
            F(row.SamplesPerSecond), F(row.TestAuc), F(row.TestGauc), F(row.TestLogLoss)));
    }

    public void Dispose() => _writer.Dispose();
}

public sealed record MetricsRow(
    int Epoch, long Step, long Samples, double ElapsedSeconds, double? TrainLoss, double? SamplesPerSecond,
    double? TestAuc = null, double? TestGauc = null, double? TestLogLoss = null);
