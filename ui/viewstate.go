package ui

// Screen is which list the terminal UI shows.
type Screen uint8

// The screens.
const (
	// ScreenProcesses is nethogs's table: one row per process.
	ScreenProcesses Screen = iota
	// ScreenConnections lists the connections of one process (ViewState.Focus).
	ScreenConnections
	// ScreenRemoteHosts lists remote addresses across all processes.
	ScreenRemoteHosts
)

// ViewState is what the terminal UI shows, apart from the data: the keys
// change it (HandleKey), Render reads it.
type ViewState struct {
	// Mode is the unit of the numbers (m cycles).
	Mode ViewMode
	// Order is the column lists are sorted by, largest first (s, r).
	Order SortOrder
	// Cmdline shows the arguments after the program name (l).
	Cmdline bool
	// Basename shows the program's base name instead of its path (b).
	Basename bool
	// Screen is the list shown (Enter, H, Esc).
	Screen Screen
	// Help shows the key overlay (h, ?).
	Help bool
	// Selected is the index of the selected row in the current list, in
	// display order: a position, as in top and htop, so the process under
	// it changes when a refresh reorders the list.
	Selected int
	// Top is the index of the first row shown (scrolling).
	Top int
	// Focus is the process whose connections ScreenConnections lists.
	Focus RowID
	// Devices are the monitored devices, shown in the title and footer.
	Devices []string
	// Title is the left of the first line, e.g. "hogs 0.1.0"; "hogs" when
	// empty.
	Title string

	// The process list's position while another screen shows, restored
	// by Esc.
	procSelected, procTop int
}
