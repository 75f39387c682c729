using DinCluster.Cluster.Checkpoints;

namespace DinCluster.Cluster.Tests.Checkpoints;

public sealed class CheckpointScheduleTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Schedule_is_due_every_n_steps_counted_from_the_last_reset()
    {
        var s = new CheckpointSchedule(everySteps: 5, everyMinutes: 0);
        s.Reset(10, T0);
        Assert.False(s.Due(14, T0.AddHours(5)));
        Assert.True(s.Due(15, T0));
        s.Reset(15, T0);
        Assert.False(s.Due(19, T0));
        Assert.True(s.Due(20, T0));
    }

    [Fact]
    public void Schedule_is_due_after_m_minutes_whatever_the_steps()
    {
        var s = new CheckpointSchedule(everySteps: 0, everyMinutes: 2);
        s.Reset(0, T0);
        Assert.False(s.Due(1000, T0.AddSeconds(119)));
        Assert.True(s.Due(1, T0.AddSeconds(120)));
    }

    [Fact]
    public void Schedule_is_never_due_when_both_triggers_are_off()
    {
        var s = new CheckpointSchedule(0, 0);
        s.Reset(0, T0);
        Assert.False(s.Enabled);
        Assert.False(s.Due(long.MaxValue / 2, T0.AddDays(30)));
    }
}
