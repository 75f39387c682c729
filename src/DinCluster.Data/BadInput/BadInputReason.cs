namespace DinCluster.Data;

/// <summary>Why input was refused. The snake_case names are the keys of the run summary.</summary>
public enum BadInputReason
{
    /// <summary>Not a Parquet file, truncated, or its footer cannot be decoded.</summary>
    UnreadableFile,

    /// <summary>Zero bytes, or a valid file with zero rows.</summary>
    EmptyFile,

    /// <summary>A column is missing or has another type than the feature schema says.</summary>
    SchemaMismatch,

    /// <summary>The footer is fine but a column chunk of the row group cannot be decoded.</summary>
    UnreadableRowGroup,

    /// <summary>A null id, label, dense value or list.</summary>
    NullValue,

    /// <summary>A label other than 0 or 1.</summary>
    InvalidLabel,

    /// <summary>Paired histories (e.g. hist_item_id and hist_category_id) of different lengths.</summary>
    HistoryLengthMismatch,

    /// <summary>NaN or infinity in a dense feature.</summary>
    NonFiniteDense,

    /// <summary>A list-valued dense feature whose length is not its declared dimension.</summary>
    DenseDimensionMismatch,
}

public static class BadInputReasonNames
{
    /// <summary>unreadable_file, empty_file, ... as written into summary.json.</summary>
    public static string SnakeCase(this BadInputReason reason) => reason switch
    {
        BadInputReason.UnreadableFile => "unreadable_file",
        BadInputReason.EmptyFile => "empty_file",
        BadInputReason.SchemaMismatch => "schema_mismatch",
        BadInputReason.UnreadableRowGroup => "unreadable_row_group",
        BadInputReason.NullValue => "null_value",
        BadInputReason.InvalidLabel => "invalid_label",
        BadInputReason.HistoryLengthMismatch => "history_length_mismatch",
        BadInputReason.NonFiniteDense => "non_finite_dense",
        BadInputReason.DenseDimensionMismatch => "dense_dimension_mismatch",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
