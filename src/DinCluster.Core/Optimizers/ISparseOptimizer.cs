namespace DinCluster.Core.Optimizers;

/// <summary>
/// A per-row sparse update rule. The table keeps <see cref="SlotCount"/> (at most 2) slot rows of
/// the same width beside each weight row, and calls <see cref="Update"/> only for rows in a push:
/// rows not pushed keep their weights and slots bit for bit (lazy updates).
/// </summary>
public interface ISparseOptimizer
{
    SparseOptimizerSettings Settings { get; }

    /// <summary>Slot rows per weight row (Adagrad 1, Adam 2, FTRL 2, SGD 0).</summary>
    int SlotCount { get; }

    /// <summary>The value every element of slot <paramref name="slot"/> starts at in a new row.</summary>
    float SlotInitialValue(int slot);

    /// <summary>
    /// Applies gradient <paramref name="grad"/> to one row. All spans have the row's width except
    /// unused slots, which are empty. <paramref name="step"/> counts this row's updates, this one
    /// included (1 on its first): Adam's per-row bias correction uses it.
    /// </summary>
    void Update(Span<float> weights, Span<float> slot0, Span<float> slot1, ReadOnlySpan<float> grad, int step);
}
