using System.Globalization;
using DinCluster.Cli.Tests.Support;
using DinCluster.Cluster.Runs;
using DinCluster.Data;
using DinCluster.Model.Export;
using Xunit.Abstractions;

namespace DinCluster.Cli.Tests.Commands;

/// <summary>
/// The commands a user runs, in process: generate -> train (local and the default simulated
/// cluster) -> evaluate -> export, each checked against what the previous one wrote.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class CommandLineTests(ITestOutputHelper output) : IDisposable
{
    private const string Seed = "21";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Generate()
    {
        output.WriteLine($"data seed {Seed}");
        var data = _dir.File("syn");
        Assert.Equal(0, Program.Main(["generate", "--out", data, "--users", "300", "--items", "600", "--categories", "20",
            "--samples", "6000", "--seed", Seed, "--row-group-size", "1000"]));
        return data;
    }

    private static string[] Small => ["--embedding-dim", "8", "--epochs", "1", "--threads", "1", "--batch-size", "128"];

    [Fact]
    public void Evaluate_and_export_reproduce_the_trained_model_when_given_its_run_folder()
    {
        var data = Generate();
        var run = _dir.File("run");
        Assert.Equal(0, Program.Main(["train", "--local", "--data", data, "--out", run, .. Small]));
        var summary = RunSummary.Read(Path.Combine(run, "summary.json"));
        Assert.Equal("completed", summary.Status);
        Assert.True(File.Exists(Path.Combine(run, "curves.png")));

        var predictions = _dir.File("pred.csv");
        Assert.Equal(0, Program.Main(["evaluate", "--model", run, "--data", data, "--predictions", predictions]));
        var lines = File.ReadAllLines(predictions);
        Assert.Equal("user_id,item_id,label,score", lines[0]);
        Assert.Equal(summary.Dataset.TestSamples, lines.Length - 1);
        var scores = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        var auc = Core.Metrics.Auc.Compute(
            scores.Select(c => float.Parse(c[3], CultureInfo.InvariantCulture)).ToArray(),
            scores.Select(c => float.Parse(c[2], CultureInfo.InvariantCulture)).ToArray());
        Assert.Equal(summary.Final!.Auc, auc, 5);

        var pt = _dir.File("din.pt");
        Assert.Equal(0, Program.Main(["export", "--model", run, "--format", "pytorch", "--out", pt]));
        var state = PyTorchExporter.Read(pt);
        Assert.Equal([200], state["mlp.act.0.alpha"].Shape);
        var itemIds = state["embedding.item.ids"];
        Assert.Equal("int64", itemIds.DType);
        Assert.Equal([itemIds.Shape[0], 8], state["embedding.item.weight"].Shape);

        var folder = _dir.File("tables");
        Assert.Equal(0, Program.Main(["export", "--model", run, "--format", "parquet", "--out", folder]));
        var items = EmbeddingTableReader.Read(Path.Combine(folder, "embedding.item.parquet"));
        Assert.Equal(itemIds.Shape[0], items.Ids.Length);
        Assert.Equal(itemIds.Longs.Order(), items.Ids.Order());
    }

    [Fact]
    public void Train_runs_the_simulated_cluster_and_accounts_every_sample_when_no_mode_is_given()
    {
        var data = Generate();
        var run = _dir.File("sim");
        Assert.Equal(0, Program.Main(["train", "--data", data, "--out", run, "--workers", "2", "--ps", "2", .. Small]));
        var summary = RunSummary.Read(Path.Combine(run, "summary.json"));
        Assert.Equal("simulated", summary.Mode);
        Assert.Equal(2, summary.Cluster.Workers);
        var epoch = Assert.Single(summary.Epochs);
        Assert.True(epoch.LedgerExact);
        Assert.Equal(summary.Dataset.TrainSamples, epoch.SamplesConsumed);
        Assert.True(summary.Final!.Auc > 0.55, $"AUC {summary.Final.Auc}");

        // The cluster's checkpoint (PS snapshots + dense state + the workers' averaged Dice
        // statistics) scores the test set exactly as the cluster's own evaluation did.
        Assert.Single(summary.Checkpoints);
        var predictions = _dir.File("sim-pred.csv");
        Assert.Equal(0, Program.Main(["evaluate", "--model", run, "--data", data, "--predictions", predictions]));
        var rows = File.ReadAllLines(predictions).Skip(1).Select(l => l.Split(',')).ToArray();
        var auc = Core.Metrics.Auc.Compute(
            rows.Select(c => float.Parse(c[3], CultureInfo.InvariantCulture)).ToArray(),
            rows.Select(c => float.Parse(c[2], CultureInfo.InvariantCulture)).ToArray());
        Assert.Equal(summary.Final.Auc, auc, 5);
    }

    [Theory]
    [InlineData(new[] { "train", "--data", "x", "--epochs", "two" }, 2)]
    [InlineData(new[] { "train", "--data", "x", "--sync", "sometimes" }, 2)]
    [InlineData(new[] { "train", "--data", "x", "--no-such-flag" }, 2)]
    [InlineData(new[] { "train", "--data", "x", "--out", "y", "--standby" }, 2)]                    // a standby needs --seeds
    [InlineData(new[] { "train", "--data", "x", "--seeds", "127.0.0.1:1", "--standby" }, 2)]       // and the job's --out
    [InlineData(new[] { "frobnicate" }, 2)]
    [InlineData(new[] { "evaluate", "--model", "/nonexistent", "--data", "x" }, 1)]
    public void Cli_exits_with_a_usage_or_input_error_when_arguments_are_wrong(string[] args, int code)
    {
        Assert.Equal(code, Program.Main(args));
    }
}
