using DinCluster.Core.Batches;
using DinCluster.Core.Features;

namespace DinCluster.Model.Tests.Support;

/// <summary>Small hand-made and random batches, with pulled rows that depend only on (table, id).</summary>
internal static class TestData
{
    /// <summary>
    /// A batch of the default schema's columns (user, item, category, two paired histories) with the
    /// given history lengths; ids drawn from small ranges so that repeats are certain.
    /// </summary>
    public static Batch Random(FeatureSchema schema, int[] lengths, int seed, int items = 6, int categories = 3, int users = 3)
    {
        var random = new Random(seed);
        var count = lengths.Length;
        var total = lengths.Sum();
        var sparse = schema.Sparse.Select(f => Enumerable.Range(0, count).Select(_ => (long)random.Next(Range(f.Table, users, items, categories))).ToArray()).ToArray();
        var paired = schema.HistoryPairs.Select(p => p.History).ToHashSet();
        // Unpaired varlen features get other lengths (rotated by one sample) to exercise their own positions.
        var varLengths = schema.VarLen.Select(f => paired.Contains(f.Name)
            ? (int[])lengths.Clone()
            : Enumerable.Range(0, count).Select(i => Math.Min(lengths[(i + 1) % count], f.MaxLen)).ToArray()).ToArray();
        var histItems = Enumerable.Range(0, total).Select(_ => (long)random.Next(items)).ToArray();
        var values = new long[schema.VarLen.Count][];
        for (var v = 0; v < schema.VarLen.Count; v++)
        {
            var f = schema.VarLen[v];
            // A category history is derived from its items, like real data (category = item % categories).
            values[v] = f.Table == "item" ? histItems
                : f.Table == "category" ? histItems.Select(i => i % categories).ToArray()
                : Enumerable.Range(0, varLengths[v].Sum()).Select(_ => (long)random.Next(Range(f.Table, users, items, categories))).ToArray();
        }
        return new Batch
        {
            BatchId = seed,
            Count = count,
            Sparse = sparse,
            Dense = schema.Dense.Select(d => Enumerable.Range(0, count * d.Dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray(),
            Lengths = varLengths,
            Values = values,
            Labels = Enumerable.Range(0, count).Select(i => (float)(i % 2)).ToArray(),
        };
    }

    private static int Range(string table, int users, int items, int categories) => table switch
    {
        "user" => users,
        "item" => items,
        "category" => categories,
        _ => 4,
    };

    /// <summary>Rows for the batch's unique ids; a row is a function of (seed, table, id) only.</summary>
    public static float[][] Rows(FeatureSchema schema, BatchIndex index, int seed, double scale = 0.5)
    {
        var rows = new float[schema.Tables.Count][];
        for (var t = 0; t < rows.Length; t++)
        {
            var dim = schema.Tables[t].Dim;
            rows[t] = new float[index.UniqueIds[t].Length * dim];
            for (var r = 0; r < index.UniqueIds[t].Length; r++)
            {
                var random = new Random(unchecked(seed * 1_000_003 + t * 7919 + (int)index.UniqueIds[t][r] * 31));
                for (var j = 0; j < dim; j++) rows[t][r * dim + j] = (float)((random.NextDouble() * 2 - 1) * scale);
            }
        }
        return rows;
    }

    public static float[] RandomVector(int length, int seed, double scale)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    /// <summary>The row of <paramref name="id"/> in table <paramref name="t"/> of a flat rows/gradients array.</summary>
    public static float[] RowOf(FeatureSchema schema, BatchIndex index, float[][] rows, int t, long id)
    {
        var r = Array.IndexOf(index.UniqueIds[t], id);
        if (r < 0) throw new KeyNotFoundException($"id {id} not in table {schema.Tables[t].Name}");
        var dim = schema.Tables[t].Dim;
        return rows[t].AsSpan(r * dim, dim).ToArray();
    }

    /// <summary>The default schema plus one more sparse feature, one unpaired varlen feature and one dense feature.</summary>
    public static FeatureSchema Extended(int dim) => new(
        [
            new SparseFeat("user_id", "user", dim),
            new SparseFeat("item_id", "item", dim),
            new SparseFeat("category_id", "category", dim),
            new SparseFeat("shop_id", "shop", dim),
            new DenseFeat("price", 2),
            new VarLenSparseFeat("hist_item_id", "item", 6),
            new VarLenSparseFeat("hist_category_id", "category", 6),
            new VarLenSparseFeat("tags", "shop", 4),
        ],
        [new HistoryPair("item_id", "hist_item_id"), new HistoryPair("category_id", "hist_category_id")]);

    /// <summary>A batch of the default schema from explicit ids: per sample (user, item, category, history items, history categories).</summary>
    public static Batch Explicit(params (long User, long Item, long Category, long[] HistItems, long[] HistCategories, float Label)[] samples) => new()
    {
        BatchId = 1,
        Count = samples.Length,
        Sparse = [samples.Select(s => s.User).ToArray(), samples.Select(s => s.Item).ToArray(), samples.Select(s => s.Category).ToArray()],
        Dense = [],
        Lengths = [samples.Select(s => s.HistItems.Length).ToArray(), samples.Select(s => s.HistCategories.Length).ToArray()],
        Values = [samples.SelectMany(s => s.HistItems).ToArray(), samples.SelectMany(s => s.HistCategories).ToArray()],
        Labels = samples.Select(s => s.Label).ToArray(),
    };

    /// <summary>Rows from a function of (table, id).</summary>
    public static float[][] Rows(FeatureSchema schema, BatchIndex index, Func<int, long, float[]> row) =>
        Enumerable.Range(0, schema.Tables.Count).Select(t => index.UniqueIds[t].SelectMany(id => row(t, id)).ToArray()).ToArray();

    /// <summary>Tables of three widths, the paired ones differing (item 4, category 3): several row groups, no interleaved pair gather.</summary>
    public static FeatureSchema MixedWidths() => new(
        [
            new SparseFeat("user_id", "user", 5),
            new SparseFeat("item_id", "item", 4),
            new SparseFeat("category_id", "category", 3),
            new VarLenSparseFeat("hist_item_id", "item", 6),
            new VarLenSparseFeat("hist_category_id", "category", 6),
        ],
        [new HistoryPair("item_id", "hist_item_id"), new HistoryPair("category_id", "hist_category_id")]);
}
