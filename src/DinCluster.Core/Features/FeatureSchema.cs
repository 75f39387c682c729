namespace DinCluster.Core.Features;

/// <summary>
/// The model's input columns in schema order, their embedding tables (shared by name) and
/// the history pairs the attention unit runs over. Immutable and validated on construction.
/// </summary>
public sealed class FeatureSchema
{
    public IReadOnlyList<SparseFeat> Sparse { get; }
    public IReadOnlyList<DenseFeat> Dense { get; }
    public IReadOnlyList<VarLenSparseFeat> VarLen { get; }
    public IReadOnlyList<HistoryPair> HistoryPairs { get; }

    /// <summary>Embedding tables in first-use order, with their width.</summary>
    public IReadOnlyList<(string Name, int Dim)> Tables { get; }

    /// <summary>Name of the label column (int32 0/1).</summary>
    public string Label { get; }

    /// <summary>Column GAUC groups by (the paper groups impressions by user).</summary>
    public string GroupBy { get; }

    public FeatureSchema(
        IEnumerable<FeatureColumn> columns,
        IEnumerable<HistoryPair> historyPairs,
        string label = "label",
        string groupBy = "user_id")
    {
        var all = columns.ToList();
        Sparse = all.OfType<SparseFeat>().ToList();
        Dense = all.OfType<DenseFeat>().ToList();
        VarLen = all.OfType<VarLenSparseFeat>().ToList();
        HistoryPairs = historyPairs.ToList();
        Label = label;
        GroupBy = groupBy;

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in all)
        {
            if (string.IsNullOrWhiteSpace(c.Name))
                throw new SchemaException("a feature column has an empty name");
            if (!names.Add(c.Name))
                throw new SchemaException($"feature '{c.Name}' is declared twice");
        }

        var tables = new List<(string, int)>();
        var dims = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in Sparse)
        {
            if (s.Dim <= 0) throw new SchemaException($"sparse feature '{s.Name}' has dim {s.Dim}, must be > 0");
            if (dims.TryGetValue(s.Table, out var d))
            {
                if (d != s.Dim)
                    throw new SchemaException($"table '{s.Table}' is used with dim {d} and dim {s.Dim} (feature '{s.Name}'); a shared table has one dim");
            }
            else
            {
                dims[s.Table] = s.Dim;
                tables.Add((s.Table, s.Dim));
            }
        }
        foreach (var v in VarLen)
        {
            if (v.MaxLen <= 0) throw new SchemaException($"varlen feature '{v.Name}' has maxlen {v.MaxLen}, must be > 0");
            if (!dims.ContainsKey(v.Table))
                throw new SchemaException($"varlen feature '{v.Name}' uses table '{v.Table}', which no sparse feature declares (its dim is unknown)");
        }
        foreach (var d in Dense)
            if (d.Dimension <= 0) throw new SchemaException($"dense feature '{d.Name}' has dimension {d.Dimension}, must be > 0");
        Tables = tables;

        if (HistoryPairs.Count == 0)
            throw new SchemaException("the schema has no history pair; DIN needs at least one (query, history) pair");
        var usedQueries = new HashSet<string>(StringComparer.Ordinal);
        var usedHistories = new HashSet<string>(StringComparer.Ordinal);
        var firstLen = -1;
        foreach (var p in HistoryPairs)
        {
            var q = Sparse.FirstOrDefault(s => s.Name == p.Query)
                ?? throw new SchemaException($"history pair query '{p.Query}' is not a sparse feature");
            var h = VarLen.FirstOrDefault(s => s.Name == p.History)
                ?? throw new SchemaException($"history pair history '{p.History}' is not a varlen sparse feature");
            if (q.Table != h.Table)
                throw new SchemaException($"history pair ({p.Query}, {p.History}) embeds in tables '{q.Table}' and '{h.Table}'; they must share one table");
            if (!usedQueries.Add(p.Query) || !usedHistories.Add(p.History))
                throw new SchemaException($"history pair ({p.Query}, {p.History}) reuses a feature of another pair");
            if (firstLen >= 0 && h.MaxLen != firstLen)
                throw new SchemaException($"history '{p.History}' has maxlen {h.MaxLen}, the other histories {firstLen}; paired histories are aligned and need one maxlen");
            firstLen = h.MaxLen;
        }
        if (label.Length == 0) throw new SchemaException("label column name is empty");
    }

    public int TableDim(string table) =>
        Tables.First(t => t.Name == table).Dim;

    public int TableIndex(string table)
    {
        for (var i = 0; i < Tables.Count; i++)
            if (Tables[i].Name == table) return i;
        throw new SchemaException($"unknown table '{table}'");
    }

    public int SparseIndex(string name)
    {
        for (var i = 0; i < Sparse.Count; i++)
            if (Sparse[i].Name == name) return i;
        return -1;
    }

    public int VarLenIndex(string name)
    {
        for (var i = 0; i < VarLen.Count; i++)
            if (VarLen[i].Name == name) return i;
        return -1;
    }

    /// <summary>Sparse features that are not a history-pair query: they enter the MLP directly.</summary>
    public IEnumerable<SparseFeat> OtherSparse =>
        Sparse.Where(s => HistoryPairs.All(p => p.Query != s.Name));

    /// <summary>Varlen features outside any history pair: sum-pooled into the MLP input.</summary>
    public IEnumerable<VarLenSparseFeat> OtherVarLen =>
        VarLen.Where(v => HistoryPairs.All(p => p.History != v.Name));

    /// <summary>The schema of DESIGN.md: user/item/category at 64 wide, histories of 50.</summary>
    public static FeatureSchema Default(int dim = 64, int maxLen = 50) => new(
        [
            new SparseFeat("user_id", "user", dim),
            new SparseFeat("item_id", "item", dim),
            new SparseFeat("category_id", "category", dim),
            new VarLenSparseFeat("hist_item_id", "item", maxLen),
            new VarLenSparseFeat("hist_category_id", "category", maxLen),
        ],
        [new HistoryPair("item_id", "hist_item_id"), new HistoryPair("category_id", "hist_category_id")]);
}

/// <summary>A schema that is inconsistent in itself, or does not match the data.</summary>
public sealed class SchemaException(string message) : Exception(message);
