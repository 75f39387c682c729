using DinCluster.Cli.Tests.Support;
using DinCluster.Cluster.Local;
using DinCluster.Cluster.Runs;
using DinCluster.Core.Features;
using DinCluster.Data;
using Xunit.Abstractions;

namespace DinCluster.Cli.Tests.Training;

/// <summary>The feature schema of a train config: extra columns flow through training; a schema the files do
/// not match is refused before the first step, naming the column and both types.</summary>
[Collection(TorchCollection.Name)]
public sealed class FeatureSchemaConfigTests(ITestOutputHelper output) : IDisposable
{
    private const string Config = """
        {
          "features": [
            { "type": "sparse", "name": "user_id", "table": "user", "dim": 8 },
            { "type": "sparse", "name": "item_id", "table": "item", "dim": 8 },
            { "type": "sparse", "name": "category_id", "table": "category", "dim": 8 },
            { "type": "sparse", "name": "gender", "table": "gender", "dim": 4 },
            { "type": "varlen", "name": "hist_item_id", "table": "item", "maxlen": 20 },
            { "type": "varlen", "name": "hist_category_id", "table": "category", "maxlen": 20 },
            { "type": "dense", "name": "price", "dimension": 1 }
          ],
          "history_pairs": [ ["item_id", "hist_item_id"], ["category_id", "hist_category_id"] ],
          "train": { "batch_size": 64, "threads": 1 }
        }
        """;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Train_uses_extra_sparse_and_dense_columns_when_the_config_declares_them()
    {
        var configPath = _dir.File("config.json");
        File.WriteAllText(configPath, Config);
        var schema = FeatureSchemaJson.Load(configPath);
        var data = _dir.File("data");
        output.WriteLine("samples seeds 71, 72");
        TrainData.Write(data, "train", "part-0.parquet", schema, TrainData.Random(400, seed: 71, schema));
        TrainData.Write(data, "test", "part-0.parquet", schema, TrainData.Random(100, seed: 72, schema));
        var run = _dir.File("run");

        var exit = Program.Main(["train", "--local", "--data", data, "--out", run, "--config", configPath, "--epochs", "1"]);

        Assert.Equal(0, exit);
        var summary = RunSummary.Read(Path.Combine(run, "summary.json"));
        Assert.Equal("completed", summary.Status);
        Assert.Equal(400, summary.Epochs[0].SamplesConsumed);
        Assert.True(double.IsFinite(summary.Final!.Auc));
        var used = FeatureSchemaJson.Parse(System.Text.Json.Nodes.JsonNode.Parse(summary.Config["schema"]!.ToString()!)!, "summary");
        Assert.Equal(["user_id", "item_id", "category_id", "gender"], used.Sparse.Select(s => s.Name));
        Assert.Equal("price", Assert.Single(used.Dense).Name);
    }

    [Fact]
    public void Train_refuses_before_the_first_step_naming_column_and_types_when_the_files_do_not_match_the_config()
    {
        // the files carry gender as a float (a dense feature), the config says sparse int64
        var fileSchema = TrainData.Schema(new DenseFeat("gender", 1), new DenseFeat("price", 1));
        var data = _dir.File("data");
        output.WriteLine("samples seeds 73, 74");
        var train = TrainData.Write(data, "train", "part-0.parquet", fileSchema, TrainData.Random(200, seed: 73, fileSchema));
        TrainData.Write(data, "test", "part-0.parquet", fileSchema, TrainData.Random(50, seed: 74, fileSchema));
        var configPath = _dir.File("config.json");
        File.WriteAllText(configPath, Config);
        var job = TrainData.Job(data, _dir.File("run"), BadInputPolicy.Fail, FeatureSchemaJson.Load(configPath));
        var trainer = new LocalTrainer(job, new StringWriter());

        var e = Assert.Throws<BadInputException>(() => trainer.Run());

        output.WriteLine(e.Message);
        Assert.Equal($"{train}: column 'gender': expected int64, found float", e.Message);
        Assert.Equal(BadInputReason.SchemaMismatch, e.Reason);
        Assert.Empty(trainer.StepLosses);
        var summary = RunSummary.Read(Path.Combine(job.OutDir, "summary.json"));
        Assert.Equal(("failed", 0L), (summary.Status, summary.Steps));
        Assert.Empty(summary.Epochs);
        Assert.Equal(e.Message, summary.Error);
    }
}
