namespace DinCluster.Model.Networks;

/// <summary>One named tensor inside a flat float array: Count values from Offset, row-major in Shape.</summary>
public sealed record ParameterSlot(string Name, long[] Shape, int Offset)
{
    public int Count { get; } = checked((int)Shape.Aggregate(1L, (a, b) => a * b));
}

/// <summary>
/// Names, shapes and offsets of the tensors packed in one flat float array, in a fixed order.
/// <code>
///   flat: [ attention.fc.0.weight | attention.fc.0.bias | ... | mlp.out.bias ]
///           ^ Offset 0              ^ Offset 80*512
/// </code>
/// </summary>
public sealed class ParameterLayout
{
    public IReadOnlyList<ParameterSlot> Slots { get; }

    /// <summary>Length of the flat array.</summary>
    public int Total { get; }

    public ParameterLayout(IEnumerable<(string Name, long[] Shape)> entries)
    {
        var slots = new List<ParameterSlot>();
        var offset = 0;
        foreach (var (name, shape) in entries)
        {
            var slot = new ParameterSlot(name, shape, offset);
            slots.Add(slot);
            offset = checked(offset + slot.Count);
        }
        Slots = slots;
        Total = offset;
    }

    public ParameterSlot this[string name] =>
        Slots.FirstOrDefault(s => s.Name == name) ?? throw new KeyNotFoundException($"no tensor '{name}' in the layout");

    public override string ToString() =>
        string.Join(", ", Slots.Select(s => $"{s.Name}[{string.Join('x', s.Shape)}]"));
}
