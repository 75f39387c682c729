namespace DinCluster.Data;

/// <summary>What a reader does with input it cannot use (`--on-bad-input fail|skip`).</summary>
public enum BadInputPolicy
{
    /// <summary>Throw a <see cref="BadInputException"/> naming file, row group and row.</summary>
    Fail,

    /// <summary>Drop the row (or the file / row group that cannot be read) and count it in <see cref="BadInputCounts"/>.</summary>
    Skip,
}
