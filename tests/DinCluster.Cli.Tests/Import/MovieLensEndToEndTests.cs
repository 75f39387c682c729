using DinCluster.Cli.Tests.Support;
using DinCluster.Cluster.Runs;
using DinCluster.Data.Importers;

namespace DinCluster.Cli.Tests.Import;

/// <summary>`dincluster import movielens` on the committed 20-user fixture, then `train --local --compare-base`:
/// it runs and every metric is finite (the figures on the full ml-latest-small are in Importers/README.md).</summary>
[Collection(TorchCollection.Name)]
public sealed class MovieLensEndToEndTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Import_then_train_gives_finite_DIN_and_BaseModel_metrics_when_run_on_the_movielens_fixture()
    {
        var data = _dir.File("ml");
        var run = _dir.File("run");

        // users:0.3 with seed 3: enough test users in a 20-user fixture for a GAUC
        Assert.Equal(0, Program.Main(["import", "movielens", Repo.Fixture("movielens"), "--out", data, "--split", "users:0.3", "--seed", "3"]));
        var report = ImportReport.Load(data);
        Assert.Equal(406, report.Train.Samples + report.Test.Samples);
        Assert.True(report.Test.Users >= 2, $"{report.Test.Users} test users");

        Assert.Equal(0, Program.Main(["train", "--local", "--data", data, "--out", run, "--epochs", "1", "--embedding-dim", "8",
            "--batch-size", "32", "--threads", "1", "--compare-base"]));

        var summary = RunSummary.Read(Path.Combine(run, "summary.json"));
        Assert.Equal("completed", summary.Status);
        Assert.Equal(report.Train.Samples, summary.Epochs[0].SamplesConsumed);
        Assert.Equal(report.Test.Samples, summary.Dataset.TestSamples);
        var din = summary.Final!;
        var comparison = summary.Comparison!;
        Assert.All(new[] { din.Auc, din.Gauc, din.LogLoss, comparison.BaseAuc, comparison.BaseGauc, comparison.RelaImprGaucPercent },
            x => Assert.True(double.IsFinite(x), $"{x} is not finite"));
    }

    [Fact]
    public void Import_exits_1_and_writes_nothing_when_a_line_is_bad_and_the_policy_is_fail()
    {
        var ratings = _dir.File("ratings.csv");
        File.WriteAllLines(ratings, ["userId,movieId,rating,timestamp", "1,1,4.0,10", "1,1,four,11"]);
        var movies = _dir.File("movies.csv");
        File.WriteAllLines(movies, ["movieId,title,genres", "1,Toy Story (1995),Animation"]);
        var data = _dir.File("ml");

        Assert.Equal(1, Program.Main(["import", "movielens", "--ratings", ratings, "--movies", movies, "--out", data]));
        Assert.False(File.Exists(Path.Combine(data, ImportReport.FileName)));

        Assert.Equal(0, Program.Main(["import", "movielens", "--ratings", ratings, "--movies", movies, "--out", data, "--on-bad-input", "skip", "--split", "last-per-user"]));
        Assert.Equal(new Dictionary<string, long> { ["not_a_number"] = 1 }, ImportReport.Load(data).SkippedByReason);
        Assert.Equal(2, Program.Main(["import", "movielens", "--ratings", ratings, "--movies", movies, "--out", data, "--split", "sometimes"]));
    }
}
