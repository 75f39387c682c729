using System.Globalization;
using System.Text.Json.Nodes;
using DinCluster.Cli.Tests.Support;
using DinCluster.Cluster.Local;
using DinCluster.Core.Features;
using DinCluster.Data;
using DinCluster.Model.Networks;

namespace DinCluster.Cli.Tests.Serving;

/// <summary>
/// A tiny model trained once per test class (seed 71, about a second): the default schema at width 8
/// plus an extra sparse feature (shop_id, its own table) and a dense one (price), Dice in both the
/// attention unit and the MLP. DATA/test holds 240 random samples (3 row groups) and 4 special ones:
/// unseen user/item/category ids, an unseen history id, an empty history, a history over maxlen.
/// </summary>
public sealed class TrainedModel : IDisposable
{
    public const int Seed = 71;
    private readonly TempDir _dir = new();

    public FeatureSchema Schema { get; } = TrainData.Schema(new SparseFeat("shop_id", "shop", 8), new DenseFeat("price", 1));
    public string Data => _dir.File("data");
    public string Run => _dir.File("run");
    public string TestFile { get; }
    public IReadOnlyList<Sample> TestSamples { get; }

    public TrainedModel()
    {
        TrainData.Write(Data, "train", "part-0.parquet", Schema, TrainData.Random(800, Seed, Schema), rowGroupSize: 200);
        var test = TrainData.Random(240, Seed + 1, Schema);
        var first = test[0];
        test.Add(first with { UserId = 90_001, ItemId = 90_002, CategoryId = 90_003 });
        test.Add(first with { HistItems = [3, 77_777, 5], HistCategories = [3, 17, 5] });
        test.Add(first with { HistItems = [], HistCategories = [] });
        test.Add(first with
        {
            HistItems = Enumerable.Range(0, 60).Select(i => (long)(i * 5 % 300)).ToArray(),
            HistCategories = Enumerable.Range(0, 60).Select(i => (long)(i * 5 % 300 % 20)).ToArray(),
        });
        TestSamples = test;
        TestFile = TrainData.Write(Data, "test", "part-0.parquet", Schema, test, rowGroupSize: 100);

        Train(Run, new ModelSettings { MlpHidden = [16, 8], AttentionHidden = [8, 4], AttentionActivation = Activation.Dice, Seed = Seed });
    }

    /// <summary>Trains a model with other settings on the same data into <paramref name="run"/> (one epoch, about a second).</summary>
    public void Train(string run, ModelSettings settings)
    {
        var job = TrainData.Job(Data, run, BadInputPolicy.Fail, Schema) with { Model = settings, Seed = Seed };
        new LocalTrainer(job, new StringWriter()).Run();
    }

    /// <summary>A sample as serve's request object (and pytorch_predict.py's JSON line).</summary>
    public static JsonObject Json(Sample s) => new()
    {
        ["user_id"] = s.UserId,
        ["item_id"] = s.ItemId,
        ["category_id"] = s.CategoryId,
        ["hist_item_id"] = new JsonArray(s.HistItems.Select(i => (JsonNode)i).ToArray()),
        ["hist_category_id"] = new JsonArray(s.HistCategories.Select(i => (JsonNode)i).ToArray()),
        ["shop_id"] = s.Sparse!["shop_id"],
        ["price"] = s.Dense!["price"][0],
    };

    /// <summary>Rows of a predict CSV (user_id,item_id,score,label).</summary>
    public static List<(long User, long Item, float Score, int Label)> ReadPredictions(string path) =>
        File.ReadLines(path).Skip(1).Select(line =>
        {
            var c = line.Split(',');
            return (long.Parse(c[0], CultureInfo.InvariantCulture), long.Parse(c[1], CultureInfo.InvariantCulture),
                float.Parse(c[2], CultureInfo.InvariantCulture), int.Parse(c[3], CultureInfo.InvariantCulture));
        }).ToList();

    public void Dispose() => _dir.Dispose();
}
