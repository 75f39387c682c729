using System.Globalization;
using DinCluster.Core.Optimizers;

namespace DinCluster.Core.Embeddings;

/// <summary>
/// How a parameter-server shard initialises, updates, admits and evicts embedding rows.
/// The defaults admit every id on its first push and never evict.
/// </summary>
public sealed record EmbeddingSettings
{
    /// <summary>A new row is uniform(-InitScale, InitScale) per element (0 gives all-zero rows).</summary>
    public float InitScale { get; init; } = 0.05f;

    /// <summary>Seeds the row initialisation; with the table name and the id it fixes a row's first value.</summary>
    public long Seed { get; init; }

    /// <summary>The sparse update rule of every table.</summary>
    public SparseOptimizerSettings Optimizer { get; init; } = SparseOptimizerSettings.Default(SparseOptimizerKind.Adagrad);

    /// <summary>Mini-batch aware regularization strength lambda (DIN eq. 4-5); 0 turns it off.</summary>
    public float MbaLambda { get; init; }

    /// <summary>An id gets a row once its pushes have carried this many occurrences (1 = at once).
    /// Counted in a count-min sketch, so a hash collision can admit an id early, never late.</summary>
    public int MinCount { get; init; } = 1;

    /// <summary>Counters per row of the admission sketch (4 rows of 16-bit counters, per table and shard; power of two).
    /// Only allocated when <see cref="MinCount"/> &gt; 1.</summary>
    public int AdmissionSketchWidth { get; init; } = 1 << 20;

    /// <summary>A row not pushed for more than this many steps is evicted (0 = never). A step is one
    /// push of the table, or the step number a push carries.</summary>
    public long TtlSteps { get; init; }

    /// <summary>Rows a table may hold per shard (0 = unbounded); past it the least frequent rows are evicted.</summary>
    public int RowCap { get; init; }

    /// <summary>Per-table overrides of <see cref="RowCap"/>.</summary>
    public IReadOnlyDictionary<string, int> TableRowCaps { get; init; } = new Dictionary<string, int>();

    /// <summary>How many recent batch ids per table a shard remembers to ignore a repeated push.</summary>
    public int DedupWindow { get; init; } = 8192;

    public int RowCapOf(string table) => TableRowCaps.TryGetValue(table, out var cap) ? cap : RowCap;

    /// <exception cref="ArgumentException">A field is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        static void Check(bool ok, string what, object value, string must)
        {
            if (!ok) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{what} is set to {value}, must be {must}"));
        }
        Check(float.IsFinite(InitScale) && InitScale >= 0, "InitScale", InitScale, ">= 0");
        Check(float.IsFinite(MbaLambda) && MbaLambda >= 0, "MbaLambda", MbaLambda, ">= 0");
        Check(MinCount >= 1, "MinCount", MinCount, ">= 1");
        Check(AdmissionSketchWidth > 0 && (AdmissionSketchWidth & (AdmissionSketchWidth - 1)) == 0, "AdmissionSketchWidth", AdmissionSketchWidth, "a power of two");
        Check(TtlSteps >= 0, "TtlSteps", TtlSteps, ">= 0");
        Check(RowCap >= 0, "RowCap", RowCap, ">= 0");
        foreach (var (table, cap) in TableRowCaps)
            Check(cap >= 0, $"TableRowCaps[{table}]", cap, ">= 0");
        Check(DedupWindow >= 1, "DedupWindow", DedupWindow, ">= 1");
        Optimizer.Validate();
    }
}
