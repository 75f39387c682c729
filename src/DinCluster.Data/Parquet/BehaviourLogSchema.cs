using DinCluster.Core.Features;
using Parquet.Schema;

namespace DinCluster.Data;

public enum LogColumnKind { Sparse, VarLen, Dense, Label, Timestamp }

/// <summary>
/// One column of a behaviour log. <paramref name="Index"/> is the feature's position in
/// FeatureSchema.Sparse / VarLen / Dense (0 for the label and timestamp).
/// </summary>
public sealed record LogColumn(string Name, LogColumnKind Kind, int Index, int Dimension)
{
    /// <summary>The Parquet type the column must have, as error messages spell it.</summary>
    public string ExpectedType => Kind switch
    {
        LogColumnKind.Sparse or LogColumnKind.Timestamp => "int64",
        LogColumnKind.VarLen => "list<int64>",
        LogColumnKind.Label => "int32",
        LogColumnKind.Dense when Dimension == 1 => "float or double",
        _ => "list<float> or list<double>",
    };
}

/// <summary>
/// The behaviour-log Parquet schema of a feature schema (DESIGN.md "Behaviour-log Parquet schema"):
/// sparse features int64, varlen features list&lt;int64&gt;, dense features float/double
/// (dimension 1) or list&lt;float&gt;/list&lt;double&gt;, the label int32, and an optional int64 timestamp.
/// Files are written in that column order; a file may hold the columns in any order, with extra
/// columns (ignored) and with nullable columns (a null is bad input, found while reading).
/// </summary>
public sealed class BehaviourLogSchema
{
    public const string TimestampColumn = "timestamp";

    public FeatureSchema Features { get; }

    /// <summary>Required columns in file order, without the optional timestamp.</summary>
    public IReadOnlyList<LogColumn> Columns { get; }

    public LogColumn Timestamp { get; } = new(TimestampColumn, LogColumnKind.Timestamp, 0, 1);

    public BehaviourLogSchema(FeatureSchema features)
    {
        Features = features;
        var columns = new List<LogColumn>();
        for (var f = 0; f < features.Sparse.Count; f++) columns.Add(new(features.Sparse[f].Name, LogColumnKind.Sparse, f, 1));
        for (var v = 0; v < features.VarLen.Count; v++) columns.Add(new(features.VarLen[v].Name, LogColumnKind.VarLen, v, 1));
        for (var d = 0; d < features.Dense.Count; d++) columns.Add(new(features.Dense[d].Name, LogColumnKind.Dense, d, features.Dense[d].Dimension));
        columns.Add(new(features.Label, LogColumnKind.Label, 0, 1));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in columns.Append(Timestamp))
            if (!seen.Add(c.Name)) throw new SchemaException($"column '{c.Name}' is declared twice in the behaviour log");
        Columns = columns;
    }

    /// <summary>The schema files are written with: required columns, non-null list elements, nullable timestamp.</summary>
    public ParquetSchema ToParquetSchema(bool withTimestamp = false)
    {
        var fields = Columns.Select(ToField).ToList();
        if (withTimestamp) fields.Add(new DataField<long>(TimestampColumn, nullable: true));
        return new ParquetSchema(fields);
    }

    private static Field ToField(LogColumn c) => c.Kind switch
    {
        LogColumnKind.Sparse => new DataField<long>(c.Name),
        LogColumnKind.VarLen => new ListField(c.Name, new DataField<long>(ListField.ElementName)),
        LogColumnKind.Dense when c.Dimension == 1 => new DataField<float>(c.Name),
        LogColumnKind.Dense => new ListField(c.Name, new DataField<float>(ListField.ElementName)),
        LogColumnKind.Label => new DataField<int>(c.Name),
        _ => throw new ArgumentOutOfRangeException(nameof(c), c.Kind, null),
    };

    /// <summary>Checks a file's schema before any row is read; throws a SchemaMismatch
    /// <see cref="BadInputException"/> naming the column, both types and the file.</summary>
    public void Check(ParquetSchema fileSchema, string file) => Bind(fileSchema, file);

    /// <param name="requireLabel">False for files to be scored: a missing label column binds as none (labels read as 0).</param>
    internal BoundLogSchema Bind(ParquetSchema fileSchema, string file, bool requireLabel = true)
    {
        var byName = new Dictionary<string, Field>(StringComparer.Ordinal);
        foreach (var f in fileSchema.Fields) byName.TryAdd(f.Name, f);

        Field Find(LogColumn c) => byName.TryGetValue(c.Name, out var f)
            ? f
            : throw Mismatch(file, c, $"column '{c.Name}' is missing (expected {c.ExpectedType})");

        DataField Scalar(LogColumn c, params Type[] types)
        {
            var f = Find(c);
            if (f is DataField { IsArray: false } d && types.Contains(d.ClrType)) return d;
            throw Mismatch(file, c, TypeMessage(c, f));
        }

        ListColumn List(LogColumn c, params Type[] types)
        {
            var f = Find(c);
            if (f is ListField { Item: DataField { IsArray: false } item } && types.Contains(item.ClrType)) return new ListColumn(item);
            throw Mismatch(file, c, TypeMessage(c, f));
        }

        var sparse = new DataField[Features.Sparse.Count];
        var varLen = new ListColumn[Features.VarLen.Count];
        var dense = new DenseColumn[Features.Dense.Count];
        DataField? label = null;
        foreach (var c in Columns)
        {
            switch (c.Kind)
            {
                case LogColumnKind.Sparse: sparse[c.Index] = Scalar(c, typeof(long)); break;
                case LogColumnKind.VarLen: varLen[c.Index] = List(c, typeof(long)); break;
                case LogColumnKind.Label when !requireLabel && !byName.ContainsKey(c.Name): break;
                case LogColumnKind.Label: label = Scalar(c, typeof(int)); break;
                case LogColumnKind.Dense when c.Dimension == 1:
                    dense[c.Index] = new DenseColumn(Scalar(c, typeof(float), typeof(double)), null);
                    break;
                case LogColumnKind.Dense:
                    var list = List(c, typeof(float), typeof(double));
                    dense[c.Index] = new DenseColumn(list.Item, list);
                    break;
            }
        }
        if (byName.ContainsKey(TimestampColumn)) Scalar(Timestamp, typeof(long));
        return new BoundLogSchema(sparse, varLen, dense, label);
    }

    private static BadInputException Mismatch(string file, LogColumn c, string detail) =>
        new(file, null, null, BadInputReason.SchemaMismatch, detail);

    private static string TypeMessage(LogColumn c, Field found) =>
        $"column '{c.Name}': expected {c.ExpectedType}, found {Describe(found)}";

    /// <summary>A field's type as error messages spell it: int64, list&lt;int64&gt;, string, ...</summary>
    public static string Describe(Field field) => field switch
    {
        DataField { IsArray: true } d => $"repeated {Describe(d.ClrType)}",
        DataField d => Describe(d.ClrType),
        ListField l => $"list<{Describe(l.Item)}>",
        MapField => "map",
        StructField => "struct",
        _ => field.SchemaType.ToString(),
    };

    private static string Describe(Type t) =>
        t == typeof(long) ? "int64"
        : t == typeof(int) ? "int32"
        : t == typeof(short) ? "int16"
        : t == typeof(sbyte) ? "int8"
        : t == typeof(ulong) ? "uint64"
        : t == typeof(uint) ? "uint32"
        : t == typeof(ushort) ? "uint16"
        : t == typeof(byte) ? "uint8"
        : t == typeof(float) ? "float"
        : t == typeof(double) ? "double"
        : t == typeof(bool) ? "boolean"
        : t == typeof(decimal) ? "decimal"
        : t == typeof(DateTime) ? "timestamp"
        : t == typeof(DateOnly) ? "date"
        : t == typeof(TimeSpan) || t == typeof(TimeOnly) ? "time"
        : t == typeof(ReadOnlyMemory<char>) || t == typeof(string) ? "string"
        : t == typeof(ReadOnlyMemory<byte>) || t == typeof(byte[]) ? "binary"
        : t.Name;
}

/// <summary>
/// Definition levels of a list column as a file declares it (nullable list and/or element or not):
/// <code>
///   def == ValueDef        an element                     (rep == 0 starts a new row)
///   def == NullElementDef  a null element (only when the element is nullable)
///   def == EmptyDef        the row's list is empty
///   def &lt;  EmptyDef        the row's list is null
/// </code>
/// </summary>
internal sealed class ListColumn(DataField item)
{
    public DataField Item { get; } = item;
    public int ValueDef { get; } = item.MaxDefinitionLevel;
    public int NullElementDef { get; } = item.IsNullable ? item.MaxDefinitionLevel - 1 : -1;
    public int EmptyDef { get; } = item.MaxDefinitionLevel - (item.IsNullable ? 2 : 1);
}

/// <summary>A dense feature's file column: a float/double scalar, or the element of a list when <paramref name="List"/> is set.</summary>
internal sealed record DenseColumn(DataField Field, ListColumn? List)
{
    public bool IsDouble => Field.ClrType == typeof(double);
}

/// <summary>The file's own fields for each feature, in FeatureSchema order (reads need the file's field objects).</summary>
/// <param name="Label">Null when the file has no label column and none was required.</param>
internal sealed record BoundLogSchema(DataField[] Sparse, ListColumn[] VarLen, DenseColumn[] Dense, DataField? Label);
