using System.Runtime.CompilerServices;

// The id map and the admission sketch are tested directly (probe-run deletion is easy to get wrong).
[assembly: InternalsVisibleTo("DinCluster.Core.Tests")]
