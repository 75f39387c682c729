namespace DinCluster.Core.Features;

/// <summary>A feature column, in the DeepCTR style. Columns are named after their Parquet column.</summary>
public abstract record FeatureColumn(string Name);

/// <summary>One int64 id per sample, looked up in embedding table <paramref name="Table"/> of width <paramref name="Dim"/>.</summary>
public sealed record SparseFeat(string Name, string Table, int Dim) : FeatureColumn(Name);

/// <summary>A float vector of <paramref name="Dimension"/> values per sample (a float/double column, or a list of them).</summary>
public sealed record DenseFeat(string Name, int Dimension) : FeatureColumn(Name);

/// <summary>A list of int64 ids per sample (oldest first), embedded in the shared table <paramref name="Table"/>;
/// only the most recent <paramref name="MaxLen"/> are kept.</summary>
public sealed record VarLenSparseFeat(string Name, string Table, int MaxLen) : FeatureColumn(Name);

/// <summary>An attention pair: the query feature (a target id) and the behaviour sequence it attends over.
/// Both embed in the same table.</summary>
public sealed record HistoryPair(string Query, string History);
