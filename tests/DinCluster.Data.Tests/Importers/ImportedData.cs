using DinCluster.Core.Features;
using DinCluster.Data.Importers;
using Parquet;

namespace DinCluster.Data.Tests.Importers;

/// <summary>An imported row as a string, so whole splits compare (and diff) as lists of lines.</summary>
public sealed record ImportedRow(long User, long Item, long Category, long[] HistItems, long[] HistCategories, int Label, long? Timestamp)
{
    public override string ToString() =>
        $"u={User} i={Item} c={Category} h=[{string.Join(' ', HistItems)}] hc=[{string.Join(' ', HistCategories)}] y={Label} t={Timestamp?.ToString() ?? "null"}";
}

public static class ImportedData
{
    /// <summary>Every row of DIR/split/*.parquet in file order, timestamps included.</summary>
    public static List<ImportedRow> Read(string dir, string split)
    {
        var folder = Path.Combine(dir, split);
        var rows = new List<ImportedRow>();
        if (!Directory.Exists(folder)) return rows;
        var reader = new BehaviourLogReader(FeatureSchema.Default(8, int.MaxValue));
        foreach (var file in Directory.GetFiles(folder, "*.parquet").Order(StringComparer.Ordinal))
        {
            var timestamps = Timestamps(file);
            var k = 0;
            foreach (var batch in reader.ReadFile(file, 4096))
                for (var i = 0; i < batch.Count; i++)
                {
                    var r = Samples.Row(batch, i);
                    rows.Add(new ImportedRow(r.User, r.Item, r.Category, r.HistItems, r.HistCategories, r.Label, timestamps[k++]));
                }
        }
        return rows;
    }

    public static List<string> Lines(string dir, string split) => Read(dir, split).Select(r => r.ToString()).ToList();

    private static List<long?> Timestamps(string file) => TimestampsAsync(file).GetAwaiter().GetResult();

    private static async Task<List<long?>> TimestampsAsync(string file)
    {
        await using var reader = await ParquetReader.CreateAsync(file);
        var field = reader.Schema.DataFields.Single(f => f.Name == "timestamp");
        var all = new List<long?>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            var group = reader.RowGroups[g];
            var values = new long?[group.RowCount];
            await group.ReadAsync<long>(field, values.AsMemory());
            all.AddRange(values);
        }
        return all;
    }

    /// <summary>A fixture folder of the test project, found from the repository root (tests run from bin/).</summary>
    public static string Fixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "DinCluster.Data.Tests", "Fixtures", name);
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"fixture '{name}' not found above {AppContext.BaseDirectory}");
    }

    public static ImportOptions Options(string outDir, SplitSpec? split = null, BadInputPolicy policy = BadInputPolicy.Fail) =>
        new() { OutDir = outDir, Split = split, OnBadInput = policy, Shuffle = false };
}
