namespace DinCluster.Core.Embeddings;

/// <summary>What became of a push.</summary>
public enum PushStatus
{
    /// <summary>Applied (rows of ids not yet admitted were dropped, see <see cref="PushResult.NotAdmitted"/>).</summary>
    Applied,

    /// <summary>Its batch id was applied before; nothing changed.</summary>
    DuplicateIgnored,

    /// <summary>A gradient was NaN or Inf; nothing of the push was applied.</summary>
    RejectedNonFinite,
}

/// <summary>The outcome of one push: its status and, when applied, how many rows it updated,
/// how many of those it created, and how many ids it dropped for not being admitted yet.</summary>
public readonly record struct PushResult(PushStatus Status, int RowsUpdated, int RowsCreated, int NotAdmitted)
{
    public static PushResult Duplicate => new(PushStatus.DuplicateIgnored, 0, 0, 0);
    public static PushResult NonFinite => new(PushStatus.RejectedNonFinite, 0, 0, 0);
}
