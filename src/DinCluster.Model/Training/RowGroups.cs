using DinCluster.Core.Features;

namespace DinCluster.Model.Training;

/// <summary>
/// Which pulled tables share one row tensor in a step: all tables of one width. One tensor per
/// width means one copy in, one gradient buffer, and lets the history pairs' keys be gathered
/// already concatenated (see <see cref="BatchInputs.PairKeySlots"/>).
/// <code>
///   tables  user(64) item(64) category(64) shop(8)
///   groups  [ user | item | category ]  [ shop ]     rows stacked in table order
/// </code>
/// </summary>
internal sealed class RowGroups
{
    /// <summary>Group of each table (schema.Tables order).</summary>
    public int[] TableGroup { get; }

    /// <summary>Row width of each group.</summary>
    public int[] GroupDim { get; }

    /// <summary>The group holding every history pair's table, or -1 when the pairs' widths differ.</summary>
    public int PairGroup { get; }

    public RowGroups(FeatureSchema schema)
    {
        var dims = schema.Tables.Select(t => t.Dim).Distinct().ToArray();
        GroupDim = dims;
        TableGroup = schema.Tables.Select(t => Array.IndexOf(dims, t.Dim)).ToArray();
        var pairGroups = schema.HistoryPairs
            .Select(p => TableGroup[schema.TableIndex(schema.Sparse[schema.SparseIndex(p.Query)].Table)])
            .Distinct().ToArray();
        PairGroup = pairGroups.Length == 1 ? pairGroups[0] : -1;
    }
}
