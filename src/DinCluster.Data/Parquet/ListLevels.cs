namespace DinCluster.Data;

/// <summary>Called for a row whose list holds a null element (at <paramref name="position"/>) or is null itself.</summary>
internal delegate void ListNullHandler(int row, int position, bool listIsNull);

internal static class ListLevels
{
    /// <summary>
    /// Turns the definition/repetition levels of a list column into each row's start and length
    /// over the packed (non-null) values; nulls go to <paramref name="onNull"/> and take no value slot.
    /// Throws InvalidDataException when the levels do not make exactly <paramref name="rows"/> rows.
    /// </summary>
    public static void Walk(ReadOnlySpan<int> def, ReadOnlySpan<int> rep, ListColumn list, int rows,
        Span<int> start, Span<int> length, string name, ListNullHandler onNull)
    {
        var (valueDef, emptyDef, nullElementDef) = (list.ValueDef, list.EmptyDef, list.NullElementDef);
        int row = -1, k = 0, position = 0;
        for (var i = 0; i < def.Length; i++)
        {
            if (rep[i] == 0)
            {
                if (row >= 0) length[row] = k - start[row];
                if (++row == rows) throw new InvalidDataException($"column '{name}' holds more than {rows} rows");
                start[row] = k;
                position = 0;
            }
            else if (row < 0) throw new InvalidDataException($"column '{name}' does not start a row at its first value");

            var d = def[i];
            if (d == valueDef) k++;
            else if (d == nullElementDef) onNull(row, position, listIsNull: false);
            else if (d < emptyDef) onNull(row, position, listIsNull: true);
            position++;
        }
        if (row != rows - 1) throw new InvalidDataException($"column '{name}' holds {row + 1} rows, the row group {rows}");
        if (row >= 0) length[row] = k - start[row];
    }
}
