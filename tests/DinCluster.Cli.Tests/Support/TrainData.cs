using DinCluster.Cluster.Jobs;
using DinCluster.Core.Features;
using DinCluster.Data;
using DinCluster.Model.Networks;
using Parquet;
using Parquet.Schema;

namespace DinCluster.Cli.Tests.Support;

/// <summary>Small behaviour logs for trainer tests, good and deliberately bad, and a small, fast job.</summary>
public static class TrainData
{
    /// <summary>The default schema at embedding width 8, optionally with extra columns.</summary>
    public static FeatureSchema Schema(params FeatureColumn[] extra)
    {
        var d = FeatureSchema.Default(8);
        return new FeatureSchema([.. d.Sparse, .. d.VarLen, .. d.Dense, .. extra], d.HistoryPairs);
    }

    /// <summary>Random samples with a learnable signal (label 1 when the target's category is in the history, mostly).</summary>
    public static List<Sample> Random(int count, int seed, FeatureSchema? schema = null)
    {
        var rng = new Random(seed);
        var samples = new List<Sample>(count);
        for (var i = 0; i < count; i++)
        {
            var length = rng.Next(8);
            var items = new long[length];
            var categories = new long[length];
            for (var t = 0; t < length; t++)
            {
                items[t] = rng.Next(300);
                categories[t] = items[t] % 20;
            }
            var item = rng.Next(300);
            var label = (categories.Contains(item % 20) ? rng.NextDouble() < 0.8 : rng.NextDouble() < 0.2) ? 1 : 0;
            var s = new Sample(rng.Next(40), item, item % 20, items, categories, label, 1_600_000_000 + i);
            if (schema is not null)
            {
                s = s with
                {
                    Sparse = schema.Sparse.Skip(3).ToDictionary(f => f.Name, _ => (long)rng.Next(3)),
                    Dense = schema.Dense.ToDictionary(f => f.Name, f => Enumerable.Range(0, f.Dimension).Select(_ => (float)rng.NextDouble()).ToArray()),
                };
            }
            samples.Add(s);
        }
        return samples;
    }

    public static string Write(string dir, string split, string name, FeatureSchema schema, IEnumerable<Sample> samples, int rowGroupSize = 100)
    {
        var folder = Directory.CreateDirectory(Path.Combine(dir, split)).FullName;
        var path = Path.Combine(folder, name);
        BehaviourLogWriter.WriteFile(path, schema, samples, rowGroupSize, withTimestamp: true);
        return path;
    }

    /// <summary>A job that trains in a second or two: width 8, small MLPs, one epoch, one libtorch thread.</summary>
    public static TrainJob Job(string data, string outDir, BadInputPolicy policy, FeatureSchema? schema = null) => new()
    {
        DataDir = data,
        OutDir = outDir,
        Schema = schema ?? Schema(),
        Model = new ModelSettings { MlpHidden = [16, 8], AttentionHidden = [8, 4] },
        Epochs = 1,
        BatchSize = 64,
        EvalBatchSize = 256,
        OnBadInput = policy,
        TorchThreads = 1,
        LogEverySteps = 5,
    };

    /// <summary>
    /// A default-schema log the way other tools write it (every column and list element optional), so
    /// nulls can be injected; <paramref name="labelAsInt64"/> writes a mistyped label column.
    /// </summary>
    public static void WriteNullable(string path, IReadOnlyList<Sample> samples, Func<int, bool> nullUser, int rowGroupSize, bool labelAsInt64 = false) =>
        WriteNullableAsync(path, samples, nullUser, rowGroupSize, labelAsInt64).GetAwaiter().GetResult();

    private static async Task WriteNullableAsync(string path, IReadOnlyList<Sample> samples, Func<int, bool> nullUser, int rowGroupSize, bool labelAsInt64)
    {
        var user = new DataField<long>("user_id", nullable: true);
        var item = new DataField<long>("item_id", nullable: true);
        var category = new DataField<long>("category_id", nullable: true);
        var histItem = new DataField<long>(ListField.ElementName, nullable: true);
        var histCategory = new DataField<long>(ListField.ElementName, nullable: true);
        DataField label = labelAsInt64 ? new DataField<long>("label", nullable: true) : new DataField<int>("label", nullable: true);
        var schema = new ParquetSchema(user, item, category, new ListField("hist_item_id", histItem), new ListField("hist_category_id", histCategory), label);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream);
        for (var first = 0; first < samples.Count; first += rowGroupSize)
        {
            var chunk = samples.Skip(first).Take(rowGroupSize).ToList();
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<long>(user, chunk.Select((s, i) => nullUser(first + i) ? null : (long?)s.UserId).ToArray());
            await group.WriteAsync<long>(item, chunk.Select(s => (long?)s.ItemId).ToArray());
            await group.WriteAsync<long>(category, chunk.Select(s => (long?)s.CategoryId).ToArray());
            await WriteListAsync(group, histItem, chunk.Select(s => s.HistItems));
            await WriteListAsync(group, histCategory, chunk.Select(s => s.HistCategories));
            if (labelAsInt64) await group.WriteAsync<long>(label, chunk.Select(s => (long?)s.Label).ToArray());
            else await group.WriteAsync<int>(label, chunk.Select(s => (int?)s.Label).ToArray());
            group.CompleteValidate();
        }
    }

    /// <summary>Levels of an optional list of optional elements: 1 empty list, 3 a value.</summary>
    private static Task WriteListAsync(ParquetRowGroupWriter group, DataField element, IEnumerable<long[]> lists)
    {
        var values = new List<long>();
        var def = new List<int>();
        var rep = new List<int>();
        foreach (var list in lists)
        {
            if (list.Length == 0)
            {
                def.Add(1);
                rep.Add(0);
                continue;
            }
            for (var i = 0; i < list.Length; i++)
            {
                rep.Add(i == 0 ? 0 : 1);
                def.Add(3);
                values.Add(list[i]);
            }
        }
        return group.WriteAllPartsAsync<long>(element, values.ToArray(), def.ToArray(), rep.ToArray(), CancellationToken.None);
    }
}
