namespace DinCluster.Cluster.Checkpoints;

/// <summary>
/// When a mid-epoch checkpoint is due: every <c>everySteps</c> steps and/or every
/// <c>everyMinutes</c> minutes since the last one (0 = that trigger is off). Epoch ends and the
/// end of the run always checkpoint; this only decides the ones in between.
/// </summary>
public sealed class CheckpointSchedule(long everySteps, double everyMinutes)
{
    private long _lastStep;
    private DateTime _lastUtc;

    public bool Enabled => everySteps > 0 || everyMinutes > 0;

    /// <summary>Starts counting from <paramref name="step"/> at <paramref name="utc"/> (start, resume, or a checkpoint just written).</summary>
    public void Reset(long step, DateTime utc)
    {
        _lastStep = step;
        _lastUtc = utc;
    }

    public bool Due(long step, DateTime utc) =>
        (everySteps > 0 && step - _lastStep >= everySteps) ||
        (everyMinutes > 0 && (utc - _lastUtc).TotalMinutes >= everyMinutes);
}
