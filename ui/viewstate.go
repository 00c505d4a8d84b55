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
	// Order is the column lists are sorted by (s, r, t, p, n).
	Order SortOrder
	// Group is what a row of the process list stands for (c cycles it).
	Group Grouping
	// Cmdline shows the arguments after the program name (l).
	Cmdline bool
	// Basename shows the program's base name instead of its path (b).
	Basename bool
	// Screen is the list shown (Enter, H, Esc).
	Screen Screen
	// Help shows the key overlay (h, ?).
	Help bool
	// Selected is the index of the selected row in the current list, in
	// display order. On the process list the selection belongs to a
	// process (SelectedRow): while that process is listed, its position
	// is the selection, wherever a refresh, a sort or a filter puts it.
	Selected int
	// SelectedRow is the process the selection is on (the zero RowID: none
	// yet, Selected alone counts).
	SelectedRow RowID
	// Paused freezes the view (Space): the terminal UI keeps showing the
	// View it had while the counting goes on; the footer says PAUSED.
	Paused bool
	// Filter, when set, keeps the processes whose program, command line,
	// user or connection addresses contain it, ignoring ASCII case (/ then
	// the text and Enter; Esc clears it). TOTAL sums the rows it keeps.
	Filter string
	// ASCII shows every rune outside ASCII as an escape (\u540d): for a
	// terminal whose locale is not UTF-8.
	ASCII bool
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
	// editing is set while the filter is typed: input is the text so far.
	editing bool
	input   string
}

// maxFilter bounds the filter's length, in bytes.
const maxFilter = 64
