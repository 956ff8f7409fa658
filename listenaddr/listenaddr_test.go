package listenaddr

import "testing"

func TestCheckAndLoopback(t *testing.T) {
	tests := []struct {
		addr           string
		valid, looping bool
	}{
		{"127.0.0.1:8080", true, true},
		{"127.1.2.3:80", true, true},
		{"[::1]:0", true, true},
		{"localhost:65535", true, true},
		{"0.0.0.0:8080", true, false},
		{":8080", true, false},
		{"192.168.1.5:8080", true, false},
		{"[::]:8080", true, false},
		{"example.com:80", true, false},
		{"nonsense", false, false},
		{"127.0.0.1", false, false},
		{"127.0.0.1:65536", false, true},
		{"127.0.0.1:-1", false, true},
		{"127.0.0.1:http", false, true},
	}
	for _, tt := range tests {
		if err := Check(tt.addr); (err == nil) != tt.valid {
			t.Errorf("Check(%q) = %v, want valid=%v", tt.addr, err, tt.valid)
		}
		if err := Loopback(tt.addr); (err == nil) != tt.looping {
			t.Errorf("Loopback(%q) = %v, want loopback=%v", tt.addr, err, tt.looping)
		}
	}
}
